/**
 * The stack-level checks of an s3 hub (`hub.kind: s3`), called by the stack schema (components/config.ts):
 * which writers the stack uses, the flavor's refusals (s3Flavors.ts), and the s3-only keys refused on
 * the other hub kinds.
 */
import YAML from "yaml";
import { APPEND_ONLY_WRITERS } from "../iam.js";
import { hubWritersInUse } from "../rights.js";
import { DEFAULT_S3_FLAVOR, s3HubProblems, type S3Flavor, type S3HubProblem } from "./s3Flavors.js";

/** The parts of the parsed stack these checks read. */
export interface S3StackView {
  readonly hub: {
    readonly kind: string;
    readonly endpoint?: string;
    readonly flavor?: S3Flavor;
    readonly manage?: "admin" | "none";
    readonly adminAccessKeyId?: string;
    readonly adminEndpoint?: string;
    readonly objectLock?: { readonly mode: string; readonly days: number };
  };
  readonly longhorn?: { readonly target?: string };
  readonly postgres?: unknown;
  readonly etcd?: unknown;
  readonly velero?: unknown;
  readonly buckets?: { readonly mirrors: readonly unknown[] };
  readonly offsite?: unknown;
  readonly secrets: Partial<Record<string, string>>;
}

const S3_ONLY = ["endpoint", "flavor", "manage", "adminAccessKeyId", "adminEndpoint"] as const;

/** Every problem of the hub section that concerns an s3 hub (or s3-only keys on another kind). */
export function s3StackIssues(c: S3StackView): S3HubProblem[] {
  const hub = c.hub;
  if (hub.kind !== "s3") {
    return S3_ONLY.filter((k) => hub[k] !== undefined).map((k) => ({
      path: ["hub", k],
      message: 'applies only to hub.kind "s3" (an S3 server that already exists); remove it or set kind: s3',
    }));
  }
  const present = (k: string) => c.secrets[k] !== undefined && c.secrets[k] !== "";
  const writerKeys = c.secrets.hubWriterKeys;
  return s3HubProblems({
    flavor: hub.flavor ?? DEFAULT_S3_FLAVOR,
    manage: hub.manage,
    endpoint: hub.endpoint,
    adminAccessKeyId: hub.adminAccessKeyId,
    adminEndpoint: hub.adminEndpoint,
    objectLock: hub.objectLock,
    writers: hubWritersInUse(c).map((w) => ({
      ...w,
      appendOnly: (APPEND_ONLY_WRITERS as readonly string[]).includes(w.name),
    })),
    secrets: {
      hubAdminPassword: present("hubAdminPassword"),
      hubAdminToken: present("hubAdminToken"),
      // Which writers have keys is known only once the secret is read (S3Hub checks it then, naming the key).
      ...(present("hubWriterKeys") ? { hubWriterKeys: writerKeyNames(writerKeys!) } : {}),
    },
  });
}

/** Writer names of a hubWriterKeys value, or every writer when the value is not readable here (a stand-in). */
function writerKeyNames(text: string): string[] {
  try {
    const v = YAML.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return Object.keys(v);
  } catch {
    // Not readable: S3Hub parses it when the program runs and fails naming the key.
  }
  return ["longhorn", "postgres", "etcd", "velero", "buckets", "offsite"];
}
