/**
 * A writer's identity and rights on a madmin server (MinIO, Silo) or on RustFS through its own admin API
 * (the same calls in plain JSON, madmin.ts dialect `rustfs`): one builtin user whose name is the
 * writer's access key, and one canned policy named after the writer (`<bucket>-<writer>`, the same
 * bucket-scoped name RGW and IAM users get), attached to that user and to no other policy.
 *
 * - Apply (create and update): `add-canned-policy` (creates or replaces the document), `add-user` (creates
 *   the user, or sets its secret key and enables it: the program cannot read a secret key back, so it
 *   always sends it), then attach the policy if the user lacks it and detach every other policy the user
 *   holds (rights given by hand would outlive the stack). Users other than this key that hold the writer's
 *   policy are keys this stack gave before (a replaced key): they are removed, as the RGW path removes a
 *   replaced key, so an old key keeps no right.
 * - Read (refresh): the policy as the server holds it, reported as wanted only when the user exists, is
 *   enabled and holds exactly that policy; otherwise what is wrong, so the next preview shows an update.
 */
import type { PolicyDocument } from "../iam.js";
import { MadminClient, type AdminDialect, type MadminCredentials } from "./madmin.js";

export interface MadminWriter {
  /** The canned policy's name (the writer's bucket-scoped user name elsewhere). */
  readonly policyName: string;
  readonly key: MadminCredentials;
  readonly policy: PolicyDocument;
}

/** The policies a user holds (`policyName` is comma-separated in madmin-go's UserInfo). */
export function userPolicies(policyName: string | undefined): string[] {
  return (policyName ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
    .sort();
}

/**
 * A policy document in a form where equal rights compare equal: MinIO parses a canned policy and writes
 * it back in its own order (sets of actions and resources, one value or a list), so the text read back
 * need not be the text sent.
 */
export function canonicalPolicy(doc: unknown): string {
  const d = doc as { Version?: string; Statement?: Record<string, unknown>[] };
  const list = (v: unknown) => (v === undefined ? undefined : [v].flat().map(String).sort());
  const cond = (c: unknown) =>
    c === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(c as Record<string, Record<string, unknown>>)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([op, kv]) => [
              op,
              Object.fromEntries(
                Object.entries(kv)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([k, v]) => [k, list(v)]),
              ),
            ]),
        );
  const statements = (d.Statement ?? [])
    .map((s) =>
      JSON.stringify({
        Sid: s.Sid ?? "",
        Effect: s.Effect,
        Action: list(s.Action),
        NotAction: list(s.NotAction),
        Resource: list(s.Resource),
        Condition: cond(s.Condition),
      }),
    )
    .sort();
  return JSON.stringify({ Version: d.Version ?? "", Statement: statements });
}

export async function ensureMadminWriter(
  endpoint: string,
  admin: MadminCredentials,
  w: MadminWriter,
  dialect: AdminDialect = "madmin",
): Promise<void> {
  const client = new MadminClient(endpoint, admin, { dialect });
  const where = `hub.manage (admin): ${dialect === "madmin" ? "madmin" : `RustFS admin API (${dialect})`} on ${endpoint}`;
  try {
    await client.addCannedPolicy(w.policyName, JSON.stringify(w.policy));
    await client.addUser(w.key.accessKeyId, w.key.secretAccessKey);
    const info = await client.userInfo(w.key.accessKeyId);
    if (!info) throw new Error(`user ${w.key.accessKeyId} is missing right after add-user`);
    const held = userPolicies(info.policyName);
    if (!held.includes(w.policyName)) await client.attachPolicy([w.policyName], w.key.accessKeyId);
    const others = held.filter((p) => p !== w.policyName);
    if (others.length > 0) await client.detachPolicy(others, w.key.accessKeyId);
    const users = await client.listUsers();
    for (const [accessKey, u] of Object.entries(users)) {
      if (accessKey !== w.key.accessKeyId && userPolicies(u.policyName).includes(w.policyName))
        await client.removeUser(accessKey);
    }
  } catch (err) {
    throw new Error(`${where}: writer ${w.policyName}: ${(err as Error).message}`);
  }
}

/** What a refresh records: `policy` equal to the wanted one only when the server holds the writer as wanted. */
export async function readMadminWriter(
  endpoint: string,
  admin: MadminCredentials,
  w: MadminWriter,
  dialect: AdminDialect = "madmin",
): Promise<{ userName: string; policy?: unknown; problems?: string[] }> {
  const client = new MadminClient(endpoint, admin, { dialect });
  const problems: string[] = [];
  const text = await client.infoCannedPolicy(w.policyName);
  let policy: unknown;
  if (text === undefined) problems.push(`no canned policy ${w.policyName}`);
  else {
    const held = JSON.parse(text) as unknown;
    policy = canonicalPolicy(held) === canonicalPolicy(w.policy) ? w.policy : held;
  }
  const info = await client.userInfo(w.key.accessKeyId);
  if (!info) problems.push(`no user ${w.key.accessKeyId}`);
  else {
    if (info.status !== "enabled") problems.push(`user ${w.key.accessKeyId} is ${info.status}`);
    const held = userPolicies(info.policyName);
    if (held.join(",") !== w.policyName)
      problems.push(`user ${w.key.accessKeyId} holds [${held.join(", ")}], not [${w.policyName}]`);
  }
  return { userName: w.policyName, ...(problems.length ? { problems } : policy !== undefined ? { policy } : {}) };
}
