/**
 * The Pulumi resources of an s3 hub (`hub.kind: s3`): the bucket's settings and each writer's
 * identity as resources, so `pulumi preview` shows them and a refresh reads them back from the
 * server (drift shows in the next preview), and the conformance step after `pulumi up`.
 *
 * Why not @pulumi/aws resources pointed at the server: terraform-provider-aws' lifecycle resource
 * sends `x-amz-transition-default-minimum-object-size` and waits for it to be echoed, which Ceph never
 * does (hashicorp/terraform-provider-aws#46021, #25939), fails on custom endpoints (#43333), and its
 * bucket resource reads accelerate/website/logging/replication, which these servers answer
 * NotImplemented (#13726, #23291). So the resources are dynamic resources whose create, update and
 * read run this project's configurator (s3-hub.ts, the code the RGW tests exercise) as a child process.
 *
 * Destroy never deletes the bucket or an identity: a backup target is not torn down with its configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import type { BucketRequest, WriterRequest } from "../s3-hub.js";
import { normalizeLifecycle, type HubBucketSettings } from "./s3Settings.js";

/** The bucket settings in the shape the configurator's read returns them. */
export function bucketWant(s: HubBucketSettings): Record<string, unknown> {
  return { ...s, ...(s.lifecycleRules ? { lifecycleRules: normalizeLifecycle(s.lifecycleRules) } : {}) };
}

/**
 * The command line of the configurator (also used by the conformance step), relative to the project
 * directory, where Pulumi runs the program, its dynamic providers and local commands: no machine's
 * absolute path ends up in the state, so the same stack on another machine shows no diff.
 *
 * The dynamic-provider host runs in that directory: the CLI starts every resource plugin with the
 * plugin context's working directory (pulumi/pulumi `pkg/resource/plugin/provider_plugin.go`,
 * `NewProvider` → `newPlugin(ctx, ctx.Pwd, …)`; `sdk/go/common/resource/plugin/plugin.go`, `ExecPlugin`:
 * `cmd.Dir = pwd`), which `pkg/engine/project.go` `getPwdMain` sets to the folder of Pulumi.yaml, or to
 * the folder of its `main` if it names one (this project's names none). A `main` in a subfolder would
 * move the host there and break these paths. test/hub/dynamicProviders.integration.test.ts runs the
 * host that way.
 */
export function s3HubCommand(sub: string): string[] {
  return ["node", "--import", "tsx", "components/hub/s3-hub.ts", sub];
}

/** Runs the configurator with `input` on stdin and returns its JSON output. Self-contained: it runs in the dynamic provider's process. */
function runConfigurator(argv: string[], input: unknown): any {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const r = spawnSync(argv[0], argv.slice(1), {
    input: JSON.stringify(input),
    encoding: "utf8",
    maxBuffer: 16 << 20,
    timeout: 600_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error((r.stderr || `exit ${r.status}`).trim());
  return JSON.parse(r.stdout);
}

const stable = (v: unknown) =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

/** The keys of `want` whose value differs from the server's `state` (both in the configurator's read shape). */
export function driftedKeys(
  want: Record<string, unknown>,
  state: Record<string, unknown> | undefined,
  keys: readonly string[],
): string[] {
  return keys.filter((k) => stable(want[k]) !== stable(state?.[k]));
}

/**
 * A dynamic provider over the configurator. `want` is what the server must hold, `state` what it held
 * at the last create, update or refresh (read runs the configurator's read): a refresh that finds the
 * server changed makes the next preview show an update, which puts the wanted settings back.
 *
 * Pulumi runs this object from the text `pulumi.runtime.serializeFunction` makes of it (the `__provider`
 * input), in the SDK's dynamic-provider host, not from this module. The serializer captures the outer
 * variables a method uses by name, but takes a name equal to the method's own as the method itself and
 * captures nothing for it (@pulumi/pulumi `runtime/closure/parseFunction.js`, `visitBaseFunction`): a parameter named `read` used inside `read()` was left unbound, and every
 * refresh failed with `ReferenceError: read is not defined`. So no captured name here equals a method's
 * name (create, update, read, diff, delete). The same goes for anything else the methods use:
 * runConfigurator loads child_process itself, inside the serialized code.
 */
function configuratorProvider(
  applyCommand: string[],
  readCommand: string[],
  keys: string[],
): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: any) {
      const state = runConfigurator(applyCommand, inputs.request);
      return { id: inputs.resourceId, outs: { ...inputs, state } };
    },
    async update(_id: string, _olds: any, news: any) {
      const state = runConfigurator(applyCommand, news.request);
      return { outs: { ...news, state } };
    },
    async read(id: string, props: any) {
      const state = runConfigurator(readCommand, props.request);
      return { id, props: { ...props, state } };
    },
    async diff(_id: string, olds: any, news: any) {
      const changed = new Set([
        ...driftedKeys(olds.want ?? {}, olds.state, keys),
        ...driftedKeys(news.want ?? {}, olds.want, keys),
      ]);
      return {
        changes:
          changed.size > 0 ||
          stable(olds.request?.target) !== stable(news.request?.target) ||
          olds.request?.key?.accessKeyId !== news.request?.key?.accessKeyId,
      };
    },
    async delete() {
      // Never deletes a backup bucket or a writer: see the file comment.
    },
  };
}

/** The providers of S3HubBucket and S3HubWriter (exported for the tests that run them against a real server). */
export const bucketProvider = configuratorProvider(s3HubCommand("configure-bucket"), s3HubCommand("read-bucket"), [
  "versioning",
  "objectLock",
  "lifecycleRules",
  "bucketPolicy",
  // What a read found wrong where it reports no setting (a Garage bucket without its alias, a writer's
  // missing key): the wanted state never has problems, so any makes the next preview an update.
  "problems",
]);
export const writerProvider = configuratorProvider(s3HubCommand("configure-writer"), s3HubCommand("read-writer"), [
  "userName",
  "policy",
  "problems",
]);

export interface S3HubBucketArgs {
  /** What the configurator applies: endpoint, flavor, admin key and the bucket settings (s3Settings.ts). */
  readonly request: pulumi.Input<BucketRequest>;
  /**
   * The endpoint, flavor and `hub.allowPlainHttp`, in plain: the request is secret, and the policy pack
   * (policies/s3Bucket.ts) reads these to judge TLS and what the server can enforce. The provider's
   * diff compares `want`, `state` and the request only, so they never cause an update by themselves.
   */
  readonly endpoint: string;
  readonly flavor: string;
  readonly allowPlainHttp: boolean;
  /**
   * The stack key the policy pack names when the endpoint is plain HTTP: a Pi hub's endpoint follows
   * from `hub.tls`. Registered only when given, so an s3 hub's inputs stay as they were. @default "hub.endpoint"
   */
  readonly endpointKey?: "hub.endpoint" | "hub.tls";
}

/** The bucket's versioning, object lock, lifecycle rules and bucket policy on an existing S3 server. */
export class S3HubBucket extends pulumi.dynamic.Resource {
  /** The settings as the server held them at the last create, update or refresh. */
  public readonly state!: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: S3HubBucketArgs, opts?: pulumi.CustomResourceOptions) {
    const request = pulumi.output(args.request);
    super(
      bucketProvider,
      name,
      {
        request,
        // What the server must hold, compared with `state` by the provider's diff.
        // Derived from the secret request but holding no secret (settings, endpoint, bucket): shown in
        // previews as plain values, and nothing secret reaches the analyzer unmarked.
        want: pulumi.unsecret(request.apply((r) => bucketWant(r.settings))),
        resourceId: pulumi.unsecret(request.apply((r) => `${r.target.endpoint}/${r.settings.bucket}`)),
        endpoint: args.endpoint,
        flavor: args.flavor,
        allowPlainHttp: args.allowPlainHttp,
        ...(args.endpointKey ? { endpointKey: args.endpointKey } : {}),
        state: undefined,
      },
      { ...opts, additionalSecretOutputs: ["request"] },
      "homelab-backup",
      "S3HubBucket",
    );
  }
}

export interface S3HubWriterArgs {
  /** What the configurator applies: endpoint, flavor, admin key, the writer's user, key and policy. */
  readonly request: pulumi.Input<WriterRequest>;
}

/** One writer's identity (user and key) and rights (its policy) on an existing S3 server. */
export class S3HubWriter extends pulumi.dynamic.Resource {
  /** The writer as the server held it at the last create, update or refresh (user name and policy). */
  public readonly state!: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: S3HubWriterArgs, opts?: pulumi.CustomResourceOptions) {
    const request = pulumi.output(args.request);
    super(
      writerProvider,
      name,
      {
        request,
        // Derived from the secret request but holding no secret (user name, policy, endpoint).
        want: pulumi.unsecret(request.apply((r) => ({ userName: r.userName, policy: r.policy }))),
        resourceId: pulumi.unsecret(request.apply((r) => `${r.target.endpoint}/${r.userName}`)),
        state: undefined,
      },
      { ...opts, additionalSecretOutputs: ["request"] },
      "homelab-backup",
      "S3HubWriter",
    );
  }
}
