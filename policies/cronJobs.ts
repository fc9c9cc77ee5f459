/** Policy 2: backup CronJobs have the hardened shape. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { names } from "../components/core/names.js";
import { Obj } from "./support.js";
import { isObj } from "./support.js";
import { str } from "./support.js";
import { isPositive } from "./support.js";
import { containersOf } from "./support.js";
import { objs } from "./support.js";
import { list } from "./support.js";
import { k8sLabel } from "./support.js";

export const UTC_ZONES = new Set(["Etc/UTC", "UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "GMT"]);
/** The only capability a root container may keep: the etcd job reads root-owned snapshot files. */
export const ETCD_ROOT_CAPABILITY = "DAC_READ_SEARCH";
export const normCap = (c: unknown) => String(c).toUpperCase().replace(/^CAP_/, "");

/** Every way a CronJob departs from the mandatory backup CronJob shape (components/core/cronJob.ts). */
export function cronJobProblems(props: Obj): string[] {
  const out: string[] = [];
  const spec = isObj(props?.spec) ? props.spec : {};
  const jobName = str(props?.metadata?.name);
  const isEtcd = jobName === names.etcdCronJob;

  const tz = spec.timeZone;
  if (typeof tz !== "string" || tz === "")
    out.push("spec.timeZone is not set; set Etc/UTC so the schedule means the same on every cluster");
  else if (!UTC_ZONES.has(tz)) out.push(`spec.timeZone is "${tz}"; every schedule of the stack is UTC, set Etc/UTC`);
  if (spec.concurrencyPolicy !== "Forbid")
    out.push(
      `spec.concurrencyPolicy is ${JSON.stringify(spec.concurrencyPolicy ?? null)}; must be "Forbid" so two runs never write the same backup`,
    );
  if (!isPositive(spec.startingDeadlineSeconds))
    out.push(
      "spec.startingDeadlineSeconds is not set (a positive number of seconds); without it a controller outage can skip runs silently",
    );
  const jobSpec = spec.jobTemplate?.spec;
  if (!isPositive(jobSpec?.activeDeadlineSeconds))
    out.push(
      "spec.jobTemplate.spec.activeDeadlineSeconds is not set (a positive number of seconds); a hung run would block every later run",
    );

  const pod = isObj(jobSpec?.template?.spec) ? jobSpec.template.spec : {};
  const podSc = isObj(pod.securityContext) ? pod.securityContext : {};
  const containers = containersOf(pod);
  if (objs(pod.containers).length === 0) out.push("spec.jobTemplate.spec.template.spec.containers is empty");

  for (const { where, c } of containers) {
    const at = `container ${where}`;
    const limits = isObj(c.resources?.limits) ? c.resources.limits : {};
    for (const r of ["cpu", "memory"])
      if (limits[r] === undefined || limits[r] === null || limits[r] === "")
        out.push(`${at}: resources.limits.${r} is not set`);

    const sc = isObj(c.securityContext) ? c.securityContext : {};
    if (sc.privileged === true) out.push(`${at}: securityContext.privileged is true`);
    if (sc.allowPrivilegeEscalation !== false)
      out.push(`${at}: securityContext.allowPrivilegeEscalation must be false`);
    if (sc.readOnlyRootFilesystem !== true) out.push(`${at}: securityContext.readOnlyRootFilesystem must be true`);
    const drop = list(sc.capabilities?.drop).map(normCap);
    const add = list(sc.capabilities?.add).map(normCap);
    if (!drop.includes("ALL")) out.push(`${at}: securityContext.capabilities.drop must include ALL`);

    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const uid = sc.runAsUser ?? podSc.runAsUser;
    if (nonRoot === true && uid === 0) {
      out.push(`${at}: runAsNonRoot is true but runAsUser is 0; the kubelet refuses to start such a container`);
    } else if (nonRoot !== true || uid === 0) {
      if (!isEtcd) {
        out.push(
          `${at}: ${uid === 0 ? "runs as root (runAsUser 0)" : "securityContext.runAsNonRoot is not true (pod or container), so it may run as root"}; set runAsNonRoot: true and a non-zero runAsUser (only the ${names.etcdCronJob} job may run as uid 0)`,
        );
      } else {
        const extra = add.filter((a) => a !== ETCD_ROOT_CAPABILITY);
        if (extra.length > 0)
          out.push(
            `${at}: runs as uid 0, so securityContext.capabilities.add may hold only ${ETCD_ROOT_CAPABILITY}, not ${extra.join(", ")}`,
          );
      }
      continue;
    }
    if (add.length > 0) out.push(`${at}: securityContext.capabilities.add (${add.join(", ")}) must be empty`);
  }

  for (const v of objs(pod.volumes)) {
    if (!isObj(v.hostPath)) continue;
    for (const { where, c } of containers) {
      for (const m of objs(c.volumeMounts)) {
        if (m.name === v.name && m.readOnly !== true)
          out.push(
            `container ${where}: volumeMounts "${m.name}" mounts hostPath ${str(v.hostPath.path) ?? ""} without readOnly: true`,
          );
      }
    }
  }
  return out;
}

export const backupCronJobPolicy: ResourceValidationPolicy = {
  name: "backup-cronjob-hardened",
  description:
    "Every backup CronJob: UTC timeZone, Forbid concurrency, deadlines, resource limits, non-root (etcd job: uid 0 with only DAC_READ_SEARCH), no privilege escalation, read-only root filesystem, read-only hostPath mounts.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "kubernetes:batch/v1:CronJob") args.notApplicable("not a CronJob");
    const label = k8sLabel(args.type, args.props, args.name);
    for (const p of cronJobProblems(args.props)) report(`${label}: ${p}`);
  },
};
