/**
 * Command-line entry of the s3 hub's configurator and conformance check, run on the machine that
 * runs Pulumi: by the resources of s3HubResources.ts (configure and read, for create/update/refresh)
 * and by the conformance step after `pulumi up`. Input is one JSON document on standard input (it
 * holds keys, so never on a command line); output is JSON on standard output; a failure exits 1 with
 * the reason on standard error.
 *
 *   node --import tsx components/hub/s3-hub.ts configure-bucket | read-bucket | configure-writer | read-writer | check
 *
 * It stays here, outside components/hub/s3/, because its path is part of every s3 hub's Pulumi state:
 * the serialized dynamic providers (s3/s3HubResources.ts) and the conformance step run it by this
 * relative path, and a refresh runs the provider text stored in the state.
 */
import { checkHubConformance, formatResults, type ConformanceInput } from "./s3/conformance.js";
import {
  applyBucketSettings,
  ensureRgwWriter,
  readBucketState,
  readRgwWriterPolicy,
  s3Client,
  type S3Credentials,
  type S3Target,
} from "./s3/s3Api.js";
import type { S3Flavor } from "./s3/s3Flavors.js";
import { ensureMadminWriter, readMadminWriter } from "./s3/madminWriters.js";
import { adminDialectFor, type AdminDialect } from "./s3/madmin.js";
import {
  ensureGarageBucket,
  ensureGarageWriter,
  readGarageBucket,
  readGarageWriter,
  type GarageAdminTarget,
  type GarageWriter,
} from "./s3/garageWriters.js";
import type { PolicyDocument } from "./iam.js";
import { normalizeLifecycle, type HubBucketSettings } from "./s3/s3Settings.js";

export interface BucketRequest {
  readonly target: S3Target;
  readonly flavor: S3Flavor;
  /** The S3 admin key (every flavor but garage). */
  readonly admin?: S3Credentials;
  /** Garage: its admin API and token, which create the bucket (Garage has no S3 admin key). */
  readonly garage?: GarageAdminTarget;
  readonly settings: HubBucketSettings;
}

export interface WriterRequest {
  readonly target: S3Target;
  readonly flavor: S3Flavor;
  /** The S3 admin key (every flavor but garage). */
  readonly admin?: S3Credentials;
  /** Garage: its admin API and token. */
  readonly garage?: GarageAdminTarget;
  /** Garage: what the key may do on the bucket (read for the readers, read and write for a writer). */
  readonly access?: "read" | "write";
  /** Garage: the bucket the key's rights are on. */
  readonly bucket?: string;
  readonly userName: string;
  readonly key: S3Credentials;
  readonly policy: PolicyDocument;
}

/** The bucket settings as the server holds them, in the shape of `HubBucketSettings` (so a diff is a plain comparison). */
export async function readBucket(req: BucketRequest): Promise<Record<string, unknown>> {
  if (req.flavor === "garage") return readGarageBucket(garageTarget(req), req.settings.bucket);
  const client = s3Client(req.target, s3Admin(req));
  try {
    const s = await readBucketState(client, req.settings.bucket);
    return {
      bucket: req.settings.bucket,
      versioning: s.versioning,
      ...(s.objectLock ? { objectLock: s.objectLock } : {}),
      lifecycleRules: normalizeLifecycle(s.lifecycleRules),
      ...(s.bucketPolicy ? { bucketPolicy: s.bucketPolicy } : {}),
    };
  } finally {
    client.destroy();
  }
}

export async function configureBucket(req: BucketRequest): Promise<void> {
  if (req.flavor === "garage") return ensureGarageBucket(garageTarget(req), req.settings.bucket);
  const client = s3Client(req.target, s3Admin(req));
  try {
    await applyBucketSettings(client, req.settings);
  } finally {
    client.destroy();
  }
}

/** The S3 admin key of a request; every flavor but garage has one (S3Hub always sets it there). */
function s3Admin(req: { flavor: S3Flavor; admin?: S3Credentials }): S3Credentials {
  if (!req.admin) throw new Error(`hub.adminAccessKeyId: flavor "${req.flavor}" needs the S3 admin key`);
  return req.admin;
}

/** Garage's admin API of a request (S3Hub sets it for garage). */
function garageTarget(req: { garage?: GarageAdminTarget }): GarageAdminTarget {
  if (!req.garage)
    throw new Error("hub.adminEndpoint: flavor garage needs its admin API and homelab-backup:hubAdminToken");
  return req.garage;
}

/** The admin API that creates writer identities on this flavor (s3Flavors.ts refuses the others first; this is the backstop). */
function identityApi(flavor: S3Flavor, endpoint: string): "rgw" | "garage" | AdminDialect {
  if (flavor === "ceph-rgw") return "rgw";
  if (flavor === "garage") return "garage";
  if (flavor === "minio" || flavor === "silo" || flavor === "rustfs") return adminDialectFor(flavor, endpoint);
  throw new Error(
    `hub.manage: writer identities can be created only on ceph-rgw, minio, silo, rustfs and garage, not "${flavor}"`,
  );
}

const madminWriter = (req: WriterRequest) => ({ policyName: req.userName, key: req.key, policy: req.policy });
const garageWriter = (req: WriterRequest): GarageWriter => ({
  name: req.userName,
  bucket: req.bucket ?? "",
  access: req.access ?? "read",
  key: req.key,
});

export async function configureWriter(req: WriterRequest): Promise<void> {
  const api = identityApi(req.flavor, req.target.endpoint);
  if (api === "garage") return ensureGarageWriter(garageTarget(req), garageWriter(req));
  if (api !== "rgw") return ensureMadminWriter(req.target.endpoint, s3Admin(req), madminWriter(req), api);
  await ensureRgwWriter(req.target, s3Admin(req), { userName: req.userName, key: req.key, policy: req.policy });
}

export async function readWriter(req: WriterRequest): Promise<{ userName: string; policy?: unknown }> {
  const api = identityApi(req.flavor, req.target.endpoint);
  if (api === "garage") return readGarageWriter(garageTarget(req), garageWriter(req));
  if (api !== "rgw") return readMadminWriter(req.target.endpoint, s3Admin(req), madminWriter(req), api);
  const policy = await readRgwWriterPolicy(req.target, s3Admin(req), req.userName);
  return { userName: req.userName, ...(policy ? { policy } : {}) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(cmd: string | undefined): Promise<number> {
  const input = JSON.parse(await readStdin());
  switch (cmd) {
    case "configure-bucket":
      await configureBucket(input);
      process.stdout.write(JSON.stringify(await readBucket(input)));
      return 0;
    case "read-bucket":
      process.stdout.write(JSON.stringify(await readBucket(input)));
      return 0;
    case "configure-writer":
      await configureWriter(input);
      process.stdout.write(JSON.stringify(await readWriter(input)));
      return 0;
    case "read-writer":
      process.stdout.write(JSON.stringify(await readWriter(input)));
      return 0;
    case "check": {
      const results = await checkHubConformance(input as ConformanceInput);
      const text = formatResults(results);
      if (results.some((r) => !r.ok)) {
        process.stderr.write(`the hub does not hold what the stack promises:\n${text}\n`);
        return 1;
      }
      process.stdout.write(`${text}\n`);
      return 0;
    }
    default:
      process.stderr.write(
        `usage: s3-hub.ts configure-bucket|read-bucket|configure-writer|read-writer|check < input.json\n`,
      );
      return 2;
  }
}

if (require.main === module) {
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
