/**
 * The resolved stack (components/model.ts) refers to itself correctly, for the example stack and each
 * fixture: every alert names a CronJob or Velero schedule that exists; every job's identity exists on
 * the hub and, in a real IAM evaluator (@cloud-copilot/iam-simulate), may write (or read) its
 * prefixes; every drill's identity may read what it restores.
 */
import * as path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { resolveStack, type StackModel } from "../../components/model.js";
import { readStackFile } from "../../tools/render.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const STACKS: Record<string, string> = {
  example: EXAMPLE_STACK,
  "aws-k3s": path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml"),
  "s3-rgw": path.join(REPO, "test/fixtures/Pulumi.s3-rgw.yaml"),
};

const ACCOUNT = "123456789012";

/** The evaluator's decision on one request of `identity`'s attached policy. */
async function allowed(policy: object, action: string, resource: string, ctx: Record<string, string> = {}) {
  const res = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:user/identity`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: ctx,
      },
      identityPolicies: [{ name: "identity", policy: JSON.parse(JSON.stringify(policy)) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (res.resultType !== "single") throw new Error(`simulation: ${JSON.stringify(res)}`);
  return res.overallResult === "Allowed";
}

/** Problems with one identity reading or writing one prefix. */
async function rightsProblems(
  model: StackModel,
  who: string,
  identity: string | undefined,
  access: "read" | "write",
  prefix: string,
): Promise<string[]> {
  const hub = model.hub!;
  const policy = identity ? hub.policies[identity as keyof typeof hub.policies] : undefined;
  if (!identity || !hub.inUse.includes(identity as never) || !policy)
    return [`${who}: identity ${identity ?? "(none)"} does not exist on the hub`];
  const key = `arn:aws:s3:::${hub.bucket}/${prefix}probe/object`;
  const out: string[] = [];
  if (access === "write" && !(await allowed(policy, "s3:PutObject", key)))
    out.push(`${who}: ${identity} may not write ${prefix}`);
  if (access === "read") {
    if (!(await allowed(policy, "s3:GetObject", key))) out.push(`${who}: ${identity} may not read ${prefix}`);
    if (!(await allowed(policy, "s3:ListBucket", `arn:aws:s3:::${hub.bucket}`, { "s3:prefix": `${prefix}probe/` })))
      out.push(`${who}: ${identity} may not list ${prefix}`);
  }
  return out;
}

/** Alerts that name a CronJob or Velero schedule the model does not have. */
function danglingAlertRefs(model: StackModel): string[] {
  const cronJobs = new Set([
    ...model.jobs.filter((j) => j.kind === "CronJob").map((j) => `${j.namespace}/${j.name}`),
    ...model.drills.map((d) => `${d.namespace}/${d.cronJob}`),
  ]);
  const cronJobNames = new Set([...cronJobs].map((c) => c.split("/")[1]));
  const schedules = new Set(model.jobs.filter((j) => j.kind === "Schedule").map((j) => j.name));
  const dangling: string[] = [];
  for (const rule of model.alerts) {
    for (const [, name] of rule.expr.matchAll(/\bcronjob="([^"]+)"/g))
      if (!cronJobNames.has(name)) dangling.push(`${rule.alert}: cronjob ${name}`);
    for (const [, name] of rule.expr.matchAll(/\bschedule="([^"]+)"/g))
      if (!schedules.has(name)) dangling.push(`${rule.alert}: schedule ${name}`);
    // With routing, `namespace` is the alerts' own namespace and the CronJob's is `backup_namespace`.
    const ns = rule.labels.backup_namespace ?? rule.labels.namespace;
    const cj = rule.labels.cronjob;
    if (ns && cj && !cronJobs.has(`${ns}/${cj}`)) dangling.push(`${rule.alert}: ${ns}/${cj}`);
  }
  return dangling;
}

describe.each(Object.entries(STACKS))("the model of the %s stack", (_name, file) => {
  const stack = readStackFile(file);
  const model = resolveStack(parseStackConfig(stack.config));

  it("has jobs, and every alert names a CronJob or Velero schedule that exists", () => {
    expect(model.jobs.length).toBeGreaterThan(0);
    expect(danglingAlertRefs(model)).toEqual([]);
  });

  it("gives every job an identity that exists and may write (or read) its prefixes", async () => {
    const problems: string[] = [];
    for (const j of model.jobs)
      for (const p of j.prefixes)
        problems.push(...(await rightsProblems(model, `${j.cls} ${j.name}`, j.identity, j.access, p)));
    expect(problems).toEqual([]);
  });

  it("gives every drill that reads the hub an identity that may read what it restores", async () => {
    const problems: string[] = [];
    for (const d of model.drills)
      for (const p of d.reads) problems.push(...(await rightsProblems(model, `drill ${d.cls}`, d.identity, "read", p)));
    expect(problems).toEqual([]);
  });
});

describe("the cross-reference checks can fail", () => {
  it("report a job whose identity may not write its prefix, and an alert on a CronJob that does not exist", async () => {
    const model = resolveStack(parseStackConfig(readStackFile(EXAMPLE_STACK).config));
    const job = model.jobs.find((j) => j.cls === "postgres")!;
    expect(await rightsProblems(model, "dump", "velero", "write", job.prefixes[0])).toEqual([
      `dump: velero may not write ${job.prefixes[0]}`,
    ]);
    expect(await rightsProblems(model, "dump", "nobody", "write", job.prefixes[0])).toHaveLength(1);
    const stray = { alert: "Stray", expr: 'kube_cronjob_info{cronjob="pg-dump-gone"}', labels: {} } as never;
    expect(danglingAlertRefs({ ...model, alerts: [...model.alerts, stray] })).toEqual(["Stray: cronjob pg-dump-gone"]);
  });
});
