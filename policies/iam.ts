/** Policy 5: writers get least privilege, append-only writers cannot delete. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PREFIXES } from "../components/core/schema.js";
import { parseJsonDoc } from "./s3Bucket.js";
import { objs } from "./support.js";
import { oneOrMany } from "./support.js";
import { Obj } from "./support.js";
import { isObj } from "./support.js";
import { str } from "./support.js";

export const IAM_POLICY_TYPES = new Set([
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/policy:Policy",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/groupPolicy:GroupPolicy",
]);
/** Prefixes of append-only classes: their writers never delete (retention is the bucket lifecycle's job). */
export const APPEND_ONLY_PREFIXES: readonly string[] = [PREFIXES.postgres, PREFIXES.etcd];
export const DELETE_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"];

export function globRegExp(pattern: string, flags = ""): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    flags,
  );
}

/** True when a Resource pattern can match an object under `prefix` (of whatever bucket it names). */
export function resourceCoversPrefix(resource: string, prefix: string): boolean {
  if (resource === "*") return true;
  const m = /^arn:aws:s3:::([^/]*)/.exec(resource);
  if (!m) return false;
  const bucket = m[1].replace(/[*?]/g, "x") || "x";
  return globRegExp(resource).test(`arn:aws:s3:::${bucket}/${prefix}probe`);
}

/** Every least-privilege problem of an IAM (or MinIO, same language) policy document. */
export function iamDocumentProblems(policy: unknown): string[] {
  const doc = parseJsonDoc(policy);
  if (!doc) return [`policy is not a JSON policy document`];
  const out: string[] = [];
  objs(oneOrMany(doc.Statement)).forEach((s, i) => {
    if (s.Effect !== "Allow") return;
    const at = `Statement[${i}]${s.Sid ? ` (${s.Sid})` : ""}`;
    const actions = oneOrMany(s.Action).map(String);
    const resources = oneOrMany(s.Resource).map(String);
    if (s.NotAction !== undefined) out.push(`${at}: Allow with NotAction grants every other action`);
    if (s.NotResource !== undefined) out.push(`${at}: Allow with NotResource grants every other resource`);
    for (const a of actions)
      if (a === "*" || /^[^:]+:\*$/.test(a))
        out.push(`${at}: Action "${a}" allows every action; list the actions needed`);
    for (const r of resources) if (r === "*") out.push(`${at}: Resource "*"; name the bucket or prefix`);
    const deletes = DELETE_ACTIONS.filter((d) => actions.some((a) => globRegExp(a, "i").test(d)));
    if (deletes.length > 0) {
      for (const prefix of APPEND_ONLY_PREFIXES) {
        const covering = resources.filter((r) => resourceCoversPrefix(r, prefix));
        if (covering.length > 0)
          out.push(
            `${at}: allows ${deletes.join(", ")} on ${covering.join(", ")}, which covers the append-only prefix ${prefix}; its writer must not delete (the lifecycle rule expires old objects)`,
          );
      }
    }
  });
  return out;
}

/** Policy documents in a text: the text itself, or base64 fields of it that decode to one. */
export function policyDocumentsIn(text: string | undefined): Obj[] {
  if (text === undefined) return [];
  const whole = parseJsonDoc(text);
  if (whole) return whole.Statement !== undefined ? [whole] : [];
  const out: Obj[] = [];
  for (const token of text.split(/\s+/)) {
    if (token.length < 24 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) continue;
    const doc = parseJsonDoc(Buffer.from(token, "base64").toString("utf8"));
    if (doc?.Statement !== undefined) out.push(doc);
  }
  return out;
}

/** The text of a CopyToRemote source when it is a plain string asset (a recorded asset may hold a promise). */
export function remoteSourceText(props: Obj): string | undefined {
  const source = props?.source;
  return isObj(source) ? str(source.text) : undefined;
}

export const iamLeastPrivilegePolicy: ResourceValidationPolicy = {
  name: "iam-least-privilege",
  description:
    "IAM and MinIO policies: no '*' or 'service:*' action, no '*' resource, no NotAction/NotResource grants, and no object deletion under the append-only prefixes postgres-backups/ and etcd-snapshots/.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    if (IAM_POLICY_TYPES.has(args.type)) {
      const who = str(props.name) ?? args.name;
      for (const p of iamDocumentProblems(props.policy)) report(`${args.type.split(":").pop()} ${who}: policy ${p}`);
      return;
    }
    // MinIO policies are IAM documents too; the hub ships them as files or pipes them to its setup
    // script on stdin, whole or as base64 fields of a line protocol.
    const texts: [string, string | undefined][] =
      args.type === "command:remote:CopyToRemote"
        ? [["source", remoteSourceText(props)]]
        : args.type === "command:remote:Command"
          ? [["stdin", str(props.stdin)]]
          : [];
    const docs = texts.flatMap(([field, t]) => policyDocumentsIn(t).map((d) => [field, d] as const));
    if (docs.length === 0) args.notApplicable("no policy document");
    for (const [field, d] of docs)
      for (const p of iamDocumentProblems(d)) report(`${args.name}: ${field} policy document ${p}`);
  },
};
