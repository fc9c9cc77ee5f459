/**
 * The Pulumi SDK mock runtime, set up the way the offline render and the tests need it: every
 * registered resource is recorded with its parent and its inputs, provider-computed values get
 * realistic stand-ins in the provider's own form (as the render's output contract in README.md "Offline render" describes), and every secret value
 * the mocks invent is remembered so the render can prove none of them leaks.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { aliasUrn, resourceUrn, urnName, urnStackAndProject, urnType, type AliasSpec } from "./urns.js";

export const ACCOUNT_ID = "123456789012";

export interface RecordedResource {
  /** Pulumi type token, e.g. `aws:s3/bucket:Bucket`. */
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  /** Logical name of the parent resource, or null for a top-level resource. */
  parent: string | null;
  /** Type token of the parent resource, or null. */
  parentType: string | null;
  /** Inputs as the engine received them (secret values still wrapped). */
  readonly inputs: any;
  readonly custom: boolean;
  urn?: string;
  /** The resource options the engine received with the registration (what the analyzer and the step order read). */
  options?: RegisteredOptions;
}

/** The registration's resource options that decide what the engine does on replace and delete, and what the analyzer sees as secret. */
export interface RegisteredOptions {
  readonly additionalSecretOutputs: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly retainOnDelete: boolean;
  readonly replaceOnChanges: readonly string[];
  readonly ignoreChanges: readonly string[];
  /** URNs of the resources this one depends on. */
  readonly dependencies: readonly string[];
  /** URN of the resource whose deletion deletes this one, or "". */
  readonly deletedWith: string;
  readonly protect: boolean;
  /** URN of the parent, or "" (the stack resource itself; under the in-process mocks, a resource without a parent). */
  readonly parent: string;
  /** The `aliases` option as sent: what the engine reads to find the resource under an earlier URN (tools/urns.ts). */
  readonly aliasSpecs: readonly AliasSpec[];
  /**
   * The URNs the aliases stand for, each field an alias leaves out taken from this resource (name, type, parent)
   * and its deployment (project, stack). An alias whose parent was itself found under an alias stands for
   * another URN in a deployment; tools/urns.ts `matchOldResources` works that out.
   */
  readonly aliases: readonly string[];
}

/** The alias specs of a RegisterResourceRequest (proto `Alias`: a URN, or the spec's parts). */
function aliasSpecsOf(req: any): AliasSpec[] {
  const aliases: any[] = req.getAliasesList();
  // The SDK marks every request whose aliases are specs (runtime/resource.js); the engine reads unmarked
  // ones from Node.js in an older encoding of the parent, which nothing here sends.
  if (aliases.length > 0 && !req.getAliasspecs())
    throw new Error(`${req.getType()}::${req.getName()}: aliases sent without the aliasSpecs flag`);
  return [
    ...req.getAliasurnsList().map((urn: string) => ({ urn })),
    ...aliases.map((a): AliasSpec => {
      if (a.hasUrn()) return { urn: a.getUrn() };
      const spec = a.getSpec();
      return {
        name: spec.getName(),
        type: spec.getType(),
        stack: spec.getStack(),
        project: spec.getProject(),
        parentUrn: spec.hasParenturn() ? spec.getParenturn() : "",
        noParent: spec.hasNoparent() ? spec.getNoparent() : false,
      };
    }),
  ];
}

/**
 * The options of a RegisterResourceRequest (the SDK's proto message, `proto/resource_pb`); `urn` is the URN the
 * monitor answered with, which names the deployment's stack and project.
 */
export function registeredOptions(req: any, urn: string): RegisteredOptions {
  const aliasSpecs = aliasSpecsOf(req);
  const owner = {
    name: urnName(urn),
    type: urnType(urn),
    parentUrn: req.getParent() || "",
    ...urnStackAndProject(urn),
  };
  return {
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : false,
    retainOnDelete: req.hasRetainondelete() ? Boolean(req.getRetainondelete()) : false,
    replaceOnChanges: req.getReplaceonchangesList(),
    ignoreChanges: req.getIgnorechangesList(),
    dependencies: req.getDependenciesList(),
    deletedWith: req.getDeletedwith(),
    protect: req.hasProtect() ? Boolean(req.getProtect()) : false,
    parent: owner.parentUrn,
    aliasSpecs,
    aliases: aliasSpecs.map((a) => aliasUrn(a, owner)),
  };
}

/** Deterministic stand-in text: the same resource gets the same value on every run. */
export function standIn(seed: string, length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"): string {
  let out = "";
  let counter = 0;
  while (out.length < length) {
    const digest = createHash("sha256").update(`${seed}#${counter++}`).digest();
    for (const byte of digest) {
      if (out.length >= length) break;
      out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** The state a provider would return for a resource, in that provider's own form. */
function providerState(
  type: string,
  name: string,
  inputs: any,
  secrets: Set<string>,
): { id: string | undefined; state: Record<string, any> } {
  const state: Record<string, any> = { ...inputs };
  const secret = (v: string) => {
    secrets.add(v);
    return pulumi.secret(v);
  };
  const k8sId = () => {
    const md = inputs?.metadata ?? {};
    const n = md.name ?? `${name}-${standIn(name, 8)}`;
    state.metadata = { ...md, name: n };
    return md.namespace ? `${md.namespace}/${n}` : n;
  };
  switch (type) {
    case "aws:s3/bucket:Bucket": {
      state.bucket ??= `${name}-${standIn(name, 8)}`;
      state.arn = `arn:aws:s3:::${state.bucket}`;
      state.bucketDomainName = `${state.bucket}.s3.amazonaws.com`;
      state.bucketRegionalDomainName = `${state.bucket}.s3.${inputs.region ?? "us-east-1"}.amazonaws.com`;
      return { id: state.bucket, state };
    }
    case "aws:iam/user:User":
    case "aws:iam/role:Role":
    case "aws:iam/policy:Policy": {
      const kind = type.split(":")[2].toLowerCase();
      state.name ??= `${name}-${standIn(name, 7)}`;
      state.arn = `arn:aws:iam::${ACCOUNT_ID}:${kind}${inputs.path ?? "/"}${state.name}`;
      state.uniqueId = `AID${standIn(name, 17, UPPER)}`;
      return { id: state.name, state };
    }
    case "aws:iam/accessKey:AccessKey": {
      const id = `AKIA${standIn(name, 16, UPPER)}`;
      state.secret = secret(
        standIn(`${name}/secret`, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
      );
      return { id, state };
    }
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString": {
      const length = inputs.length ?? 32;
      const alphabet =
        inputs.special === false || type.endsWith("RandomString")
          ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const value = standIn(
        `${name}/result`,
        length,
        inputs.upper === false ? alphabet.replace(/[A-Z]/g, "") : alphabet,
      );
      state.result = type.endsWith("RandomPassword") ? secret(value) : value;
      if (type.endsWith("RandomPassword")) state.bcryptHash = secret(`$2a$10$${standIn(`${name}/bcrypt`, 53)}`);
      return { id: "none", state };
    }
    case "random:index/randomBytes:RandomBytes": {
      const length = inputs.length ?? 32;
      const hex = standIn(`${name}/bytes`, length * 2, "0123456789abcdef");
      state.hex = secret(hex);
      state.base64 = secret(Buffer.from(hex, "hex").toString("base64"));
      return { id: "none", state };
    }
    case "random:index/randomId:RandomId": {
      const n = inputs.byteLength ?? 8;
      const hex = standIn(`${name}/id`, n * 2, "0123456789abcdef");
      state.hex = hex;
      state.b64Url = Buffer.from(hex, "hex").toString("base64url");
      state.dec = BigInt(`0x${hex}`).toString();
      return { id: state.b64Url, state };
    }
    case "command:remote:Command":
    case "command:local:Command":
      state.stdout ??= "";
      state.stderr ??= "";
      return { id: `${name}-${standIn(name, 8)}`, state };
    default:
      if (
        type.startsWith("kubernetes:") &&
        !type.startsWith("kubernetes:helm.sh") &&
        type !== "pulumi:providers:kubernetes"
      )
        return { id: k8sId(), state };
      if (type.startsWith("kubernetes:helm.sh/v3:Release")) {
        state.status = {
          name: inputs.name ?? name,
          namespace: inputs.namespace,
          status: "deployed",
          version: inputs.version,
        };
        return { id: `${inputs.namespace ?? "default"}/${inputs.name ?? name}`, state };
      }
      return { id: `${name}-id`, state };
  }
}

export interface RecordingMocks {
  readonly mocks: pulumi.runtime.Mocks;
  readonly resources: RecordedResource[];
  /** Every secret value the mocks generated (plus any the caller adds). */
  readonly secretValues: Set<string>;
  byType(type: string): RecordedResource[];
  one(type: string, name: string): RecordedResource;
}

export function recordingMocks(): RecordingMocks {
  const resources: RecordedResource[] = [];
  const secretValues = new Set<string>();
  const mocks: pulumi.runtime.Mocks = {
    newResource: (a) => {
      resources.push({
        type: a.type,
        name: a.name,
        inputs: a.inputs,
        custom: a.custom ?? false,
        parent: null,
        parentType: null,
      });
      return providerState(a.type, a.name, a.inputs, secretValues);
    },
    call: (a) => {
      if (a.token === "aws:index/getCallerIdentity:getCallerIdentity")
        return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/pulumi`, userId: "AIDAPULUMI" };
      if (a.token === "aws:index/getRegion:getRegion")
        return { name: a.inputs.name ?? "us-east-1", region: a.inputs.region ?? "us-east-1" };
      if (a.token === "aws:index/getPartition:getPartition") return { partition: "aws", dnsSuffix: "amazonaws.com" };
      return a.inputs;
    },
  };
  const byType = (t: string) => resources.filter((r) => r.type === t);
  const one = (t: string, n: string) => {
    const found = resources.filter((r) => r.type === t && r.name === n);
    if (found.length !== 1)
      throw new Error(
        `expected one ${t} named ${n}, found ${found.length} (have: ${byType(t)
          .map((r) => r.name)
          .join(", ")})`,
      );
    return found[0];
  };
  return { mocks, resources, secretValues, byType, one };
}

/** Installs the mocks in this process and records each registration's parent and options. */
export async function installMocks(
  rec: RecordingMocks,
  project = "homelab-backup",
  stack = "homelab",
  preview = false,
): Promise<void> {
  await pulumi.runtime.setMocks(rec.mocks, project, stack, preview);
  const monitor = (pulumi.runtime as any).getMonitor();
  // The SDK's MockMonitor puts only the parent's own type before a child's (runtime/mocks.js, newUrn); the
  // engine puts the parent's whole chain (tools/urns.ts), which is what aliases and `--replace` URNs name.
  monitor.newUrn = (parent: string, type: string, name: string) => resourceUrn(stack, project, parent, type, name);
  recordRegistrations(monitor, rec);
}

/**
 * Wraps a MockMonitor's `registerResource` so that each record the mocks push gets its URN, its parent
 * and the resource options of its registration (used here and by the offline engine, tools/engine.ts).
 */
export function recordRegistrations(monitor: any, rec: RecordingMocks): void {
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    const parentUrn: string = req.getParent() || "";
    const index = rec.resources.length; // the record the mock is about to push
    original(req, (err: any, resp: any) => {
      const r = rec.resources[index];
      if (r && resp) {
        r.urn = resp.getUrn();
        r.options = registeredOptions(req, resp.getUrn());
        const parentName = parentUrn ? parentUrn.split("::").pop()! : null;
        const parentType = parentUrn ? parentUrn.split("::")[2].split("$").pop()! : null;
        r.parent = parentType === "pulumi:pulumi:Stack" ? null : parentName;
        r.parentType = parentType === "pulumi:pulumi:Stack" ? null : parentType;
      }
      callback(err, resp);
    });
  };
}

/** Waits until every resource registration in flight has reached the mocks. */
export async function settle(): Promise<void> {
  const drain = (pulumi.runtime as any).waitForRPCs;
  for (let i = 0; i < 3; i++) {
    if (typeof drain === "function") await drain();
    for (let n = 0; n < 10; n++) await new Promise((r) => setImmediate(r));
  }
}

/** Resolves an Output (or plain value) to its value, secrets included. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** True when the Output is a secret. */
export function isSecretOutput(o: pulumi.Output<unknown>): Promise<boolean> {
  return (o as any).isSecret as Promise<boolean>;
}

/** Replaces every engine secret wrapper with its plain value (for assertions on content). */
export function unwrapSecrets(v: any): any {
  if (pulumi.runtime.isRpcSecret(v)) return unwrapSecrets(pulumi.runtime.unwrapRpcSecret(v));
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object" && v.constructor === Object)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  return v;
}

/** Replaces every secret value by the literal `[secret]`, keeping the keys of secret objects visible. */
export function maskSecrets(v: any, inSecret = false): any {
  if (pulumi.runtime.isRpcSecret(v)) return maskSecrets(pulumi.runtime.unwrapRpcSecret(v), true);
  if (Array.isArray(v)) return v.map((x) => maskSecrets(x, inSecret));
  if (v && typeof v === "object" && v.constructor === Object)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecrets(x, inSecret)]));
  if (inSecret && v !== undefined && v !== null) return "[secret]";
  return v;
}
