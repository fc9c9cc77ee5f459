/**
 * An S3 server that already exists as the backup hub (`hub.kind: s3`). Nothing runs over SSH.
 *
 * - `manage: admin`: the bucket's settings (S3HubBucket) and one identity per writer (S3HubWriter) are
 *   configured through the server's own APIs with the admin key; the writers' keys are generated here
 *   and are Pulumi secrets.
 * - `manage: none`: nothing is configured; the writers use the keys of `homelab-backup:hubWriterKeys`.
 *
 * Either way, once the hub's resources exist, the conformance step (s3-hub.ts check, conformance.ts)
 * proves against the real server what the stack promised, and fails `pulumi up` when it does not hold.
 * With `manage: none` it can only check what the writers' keys can see (their rights, uploads).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { local } from "@pulumi/command";
import YAML from "yaml";
import type { WriterCredentials, WriterName } from "../../core/hubConnection.js";
import { contentHash } from "../../core/files.js";
import { VELERO_AWS_PLUGIN_EMPTY_TAGGING } from "../../core/versions.js";
import type { PrefixLifecycle } from "../retention.js";
import { HUB_DEFAULTS } from "../schema.js";
import { effectiveManage, FLAVOR_CAPABILITIES, parseWriterKeys, type S3Flavor } from "./s3Flavors.js";
import { S3HubBucket, S3HubWriter, s3HubCommand } from "./s3HubResources.js";
import { garageGrantPolicy, garageKeyPair, garageWantedPerm, type GarageAdminTarget } from "./garageWriters.js";
import { hubBucketSettings, hubWriterSpecs, type HubBucketSettings, type HubWriterSpec } from "./s3Settings.js";

/** The hub section fields an s3 hub uses. */
export interface S3HubSection {
  readonly bucket: string;
  /** @default "us-east-1" */
  readonly region?: string;
  /** The existing server's S3 endpoint, e.g. `https://s3.lan:9000`. */
  readonly endpoint: string;
  /** What the server is. @default "generic" */
  readonly flavor?: S3Flavor;
  /** `admin`: configured with the admin key; `none`: the writers use `writerKeys`. @default by flavor (s3Flavors.ts defaultManage) */
  readonly manage?: "admin" | "none";
  /** The admin's access key id; required with manage admin, except on garage. */
  readonly adminAccessKeyId?: string;
  /** Garage's admin API URL; required with flavor garage and manage admin. */
  readonly adminEndpoint?: string;
  /** Accept an `http://` endpoint (the policy pack reports it instead of refusing it). @default false */
  readonly allowPlainHttp?: boolean;
  /** Object lock with a default retention. @default none */
  readonly objectLock?: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly days: number };
}

export interface S3HubArgs {
  /** The hub section of the stack file (kind s3). */
  readonly hub: S3HubSection;
  /** One lifecycle rule per bucket prefix (retention.ts prefixLifecycles). */
  readonly lifecycles: readonly PrefixLifecycle[];
  /** The writers the stack uses. */
  readonly writers: readonly WriterName[];
  /** Prefixes the offsite reader may read. @default the whole bucket */
  readonly offsitePrefixes?: readonly string[];
  /** Prefixes the restore drills read ("" = the whole bucket). @default none: the drills identity has no right */
  readonly drillPrefixes?: readonly string[];
  /** The admin's secret key (homelab-backup:hubAdminPassword); required with manage: admin. */
  readonly adminSecretAccessKey?: pulumi.Input<string>;
  /** The writers' keys as YAML/JSON (homelab-backup:hubWriterKeys); required with manage: none. */
  readonly writerKeys?: pulumi.Input<string>;
  /** Garage's admin API bearer token (homelab-backup:hubAdminToken); required with flavor garage and manage: admin. */
  readonly adminToken?: pulumi.Input<string>;
  /** Whether the stack's Velero sends request checksums (velero/logic.ts bslConfig). @default false */
  readonly veleroChecksums?: boolean;
  /** Whether the stack's Velero plugin sends an empty x-amz-tagging header (core/versions.ts). @default VELERO_AWS_PLUGIN_EMPTY_TAGGING.sendsEmptyTaggingHeader */
  readonly veleroEmptyTagging?: boolean;
  /**
   * Manage admin: the writers' keys, made elsewhere (a Pi hub's `<writer>-backup` access keys with PiHub's
   * generated secrets, so a hub configured before keeps its keys). A writer given here gets no generated
   * key (no RandomString, no RandomPassword). @default every key generated here
   */
  readonly identityKeys?: Readonly<Partial<Record<WriterName, IdentityKey>>>;
  /**
   * Manage admin: the server-side user (RGW uid) or canned-policy name (madmin, RustFS) per writer, in
   * place of the bucket-scoped default; a Pi hub keeps its `homelab-backup-<writer>` policies, replaced in
   * place. @default s3Settings.ts s3WriterUserName
   */
  readonly userNames?: Readonly<Partial<Record<WriterName, string>>>;
  /**
   * What the policy pack names for the endpoint's scheme: `hub.endpoint` on an s3 hub, `hub.tls` on a Pi
   * hub, where the endpoint follows from `hub.tls` (policies/s3Bucket.ts). @default "hub.endpoint"
   */
  readonly endpointKey?: "hub.endpoint" | "hub.tls";
}

/** A writer's key made outside S3Hub (the values of `identityKeys`); the secret stays a Pulumi secret. */
export interface IdentityKey {
  /** The writer's access key id (the server's user name on madmin servers). */
  readonly accessKeyId: pulumi.Input<string>;
  /** The writer's secret key. */
  readonly secretAccessKey: pulumi.Input<string>;
}

/** The writer specs with the server-side names the caller chose (`userNames`) in place of the defaults. */
export function withUserNames(
  specs: readonly HubWriterSpec[],
  userNames: Readonly<Partial<Record<WriterName, string>>> | undefined,
): HubWriterSpec[] {
  return specs.map((s) => (userNames?.[s.writer] ? { ...s, userName: userNames[s.writer]! } : s));
}

export class S3Hub extends pulumi.ComponentResource {
  /** Per-writer S3 credentials; secrets, usable once the writer's identity exists. */
  public readonly writers: Record<WriterName, WriterCredentials>;
  /** What the server must hold (the resources' inputs, in S3 terms). */
  public readonly settings: pulumi.Output<HubBucketSettings>;
  /** The conformance step's report, one line per check. */
  public readonly conformance: pulumi.Output<string>;

  constructor(name: string, args: S3HubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:S3Hub", name, {}, opts);
    const hub = {
      ...args.hub,
      region: args.hub.region ?? HUB_DEFAULTS.region,
      flavor: args.hub.flavor ?? HUB_DEFAULTS.flavor,
    };
    if (!hub.endpoint) throw new Error("S3Hub: hub.endpoint is required");
    const target = { endpoint: hub.endpoint, region: hub.region };
    const manage = effectiveManage(hub.flavor, hub.manage);
    const settings = hubBucketSettings({
      bucket: hub.bucket,
      endpoint: hub.endpoint,
      flavor: hub.flavor,
      objectLock: hub.objectLock,
      lifecycles: args.lifecycles,
    });
    const specs: HubWriterSpec[] = withUserNames(
      hubWriterSpecs(hub.bucket, args.writers, {
        offsitePrefixes: args.offsitePrefixes,
        drillPrefixes: args.drillPrefixes,
        // The status records' rights exist where the program made the identities, scoped by prefix.
        records: manage === "admin" && FLAVOR_CAPABILITIES[hub.flavor].prefixRights,
      }),
      args.userNames,
    );
    const child = { parent: this };

    let keys: pulumi.Output<Record<string, { accessKeyId: string; secretAccessKey: string }>>;
    let admin: pulumi.Output<{ accessKeyId: string; secretAccessKey: string }> | undefined;
    const dependsOn: pulumi.Resource[] = [];
    if (manage === "admin") {
      const garage = hub.flavor === "garage";
      // Garage has no S3 admin key: its bucket and keys are made through its admin API with a bearer
      // token (garageWriters.ts); every other flavor is managed with the S3 admin key.
      let garageAdmin: pulumi.Output<GarageAdminTarget> | undefined;
      if (garage) {
        if (!hub.adminEndpoint || args.adminToken === undefined)
          throw new Error(
            "S3Hub: flavor garage with manage admin needs hub.adminEndpoint and homelab-backup:hubAdminToken",
          );
        const adminEndpoint = hub.adminEndpoint;
        garageAdmin = pulumi.secret(
          pulumi.output(args.adminToken).apply((token) => ({ endpoint: adminEndpoint, token })),
        );
      } else {
        if (!hub.adminAccessKeyId || args.adminSecretAccessKey === undefined)
          throw new Error("S3Hub: manage admin needs hub.adminAccessKeyId and homelab-backup:hubAdminPassword");
        admin = pulumi.secret(
          pulumi
            .output(args.adminSecretAccessKey)
            .apply((secretAccessKey) => ({ accessKeyId: hub.adminAccessKeyId!, secretAccessKey })),
        );
      }
      const control = pulumi.secret(
        pulumi
          .all([admin ?? pulumi.output(undefined), garageAdmin ?? pulumi.output(undefined)])
          .apply(([a, g]) => ({ ...(a ? { admin: a } : {}), ...(g ? { garage: g } : {}) })),
      );
      const bucket = new S3HubBucket(
        `${name}-bucket`,
        {
          request: control.apply((c) => ({ target, flavor: hub.flavor, ...c, settings })),
          endpoint: hub.endpoint,
          flavor: hub.flavor,
          allowPlainHttp: hub.allowPlainHttp ?? HUB_DEFAULTS.allowPlainHttp,
          ...(args.endpointKey ? { endpointKey: args.endpointKey } : {}),
        },
        child,
      );
      dependsOn.push(bucket);
      const generated: Record<string, pulumi.Output<{ accessKeyId: string; secretAccessKey: string }>> = {};
      for (const spec of specs) {
        let key: pulumi.Output<{ accessKeyId: string; secretAccessKey: string }>;
        const given = args.identityKeys?.[spec.writer];
        if (given) {
          // A key made elsewhere is adopted as it is: generating one here would rotate it unannounced.
          key = pulumi.secret(
            pulumi
              .all([given.accessKeyId, given.secretAccessKey])
              .apply(([accessKeyId, secretAccessKey]) => ({ accessKeyId, secretAccessKey })),
          );
        } else {
          const id = new random.RandomString(
            `${name}-${spec.writer}-access-key`,
            { length: 20, special: false, lower: false },
            child,
          ).result;
          const secret = new random.RandomPassword(
            `${name}-${spec.writer}-secret-key`,
            { length: 40, special: false },
            child,
          ).result;
          key = pulumi
            .all([id, secret])
            .apply(([accessKeyId, secretAccessKey]) =>
              garage ? garageKeyPair(accessKeyId, secretAccessKey) : { accessKeyId, secretAccessKey },
            );
        }
        const access = spec.access === "read" ? ("read" as const) : ("write" as const);
        const writer = new S3HubWriter(
          `${name}-${spec.writer}`,
          {
            request: pulumi.all([control, key]).apply(([c, k]) => ({
              target,
              flavor: hub.flavor,
              ...c,
              userName: spec.userName,
              key: k,
              // On Garage the rights are flags per key and bucket; the policy is what they amount to.
              ...(garage
                ? { policy: garageGrantPolicy(hub.bucket, garageWantedPerm(access)), access, bucket: hub.bucket }
                : { policy: spec.policy }),
            })),
          },
          { parent: this, dependsOn: [bucket] },
        );
        dependsOn.push(writer);
        // Tied to the writer resource, so whoever uses the key waits until the identity exists.
        generated[spec.writer] = pulumi.all([writer.id, key]).apply(([, k]) => k);
      }
      keys = pulumi.secret(pulumi.all(generated));
    } else {
      if (args.writerKeys === undefined) throw new Error("S3Hub: manage none needs homelab-backup:hubWriterKeys");
      keys = pulumi.secret(pulumi.output(args.writerKeys).apply((text) => parseWriterKeys(text, YAML.parse)));
    }

    const input = pulumi.all([keys, admin ?? pulumi.output(undefined)]).apply(([writerKeys, a]) =>
      JSON.stringify({
        target,
        settings,
        writers: specs,
        writerKeys,
        ...(a ? { admin: a } : {}),
        veleroChecksums: args.veleroChecksums ?? false,
        veleroEmptyTagging: args.veleroEmptyTagging ?? VELERO_AWS_PLUGIN_EMPTY_TAGGING.sendsEmptyTaggingHeader,
        // Not read by the check: it tells the policy pack that the stack accepts an http:// endpoint.
        allowPlainHttp: hub.allowPlainHttp ?? HUB_DEFAULTS.allowPlainHttp,
      }),
    );
    const check = new local.Command(
      `${name}-conformance`,
      {
        create: s3HubCommand("check").join(" "),
        stdin: pulumi.secret(input),
        // Runs again whenever what the hub must hold changes, or a refresh found the server changed.
        triggers: [
          contentHash(JSON.stringify({ target, settings, specs, manage })),
          ...dependsOn.map((r) => (r as S3HubBucket).state),
        ],
        logging: "stdoutAndStderr",
      },
      // The analyzer receives inputs unwrapped: this option is how it (and the state) knows stdin is secret.
      { parent: this, dependsOn, additionalSecretOutputs: ["stdin"] },
    );

    this.settings = pulumi.output(settings);
    this.conformance = check.stdout;
    this.writers = Object.fromEntries(
      specs.map((s) => [
        s.writer,
        {
          accessKeyId: pulumi.secret(keys.apply((k) => k[s.writer].accessKeyId)),
          secretAccessKey: pulumi.secret(keys.apply((k) => k[s.writer].secretAccessKey)),
        },
      ]),
    ) as Record<WriterName, WriterCredentials>;
    this.registerOutputs({ writers: this.writers, settings: this.settings, conformance: this.conformance });
  }
}
