/** Alert rules about the Jobs of every backup CronJob, whatever their area (composed by components/alerts/rules.ts). */
import { offsiteOf, type StackConfig } from "../config.js";
import { formatSeconds } from "../core/cron.js";
import { DEFAULT_ACTIVE_DEADLINE_SECONDS } from "../core/cronJob.js";
import { names } from "../core/names.js";
import { jobsOf, q, rule, SERIES_NAMESPACE, type Built } from "./ruleHelpers.js";

/** Every CronJob of the stack that backs something up, by namespace (for OOM and deadline alerts). */
export function backupCronJobs(stack: StackConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (ns: string, cj: string) => out.set(ns, [...(out.get(ns) ?? []), cj]);
  for (const j of stack.longhorn?.recurringJobs ?? []) add(stack.longhorn!.namespace, j.name);
  const pg = stack.postgres;
  for (const db of pg?.databases ?? []) add(db.namespace, names.postgresDumpCronJob(db.name));
  for (const name of pg?.restoreDrill?.databases ?? [])
    add(pg!.databases.find((d) => d.name === name)!.namespace, names.postgresRestoreDrillCronJob(name));
  if (stack.etcd) add(stack.etcd.namespace, names.etcdCronJob);
  for (const m of stack.buckets?.mirrors ?? []) add(m.source.credentialsSecret.namespace, names.mirrorCronJob(m.name));
  const offsite = offsiteOf(stack);
  if (offsite?.runOn === "cluster") add(offsite.namespace, names.offsiteCronJob);
  return out;
}

/** OOM kills and deadline kills of every backup Job (and of Velero's Kopia maintenance Jobs).*/
export function jobAlertRules(stack: StackConfig): Built[] {
  const out: Built[] = [];
  const velero = stack.velero;
  // Jobs of every backup CronJob (and Velero's Kopia maintenance Jobs, #8593).
  const cronJobs = backupCronJobs(stack);
  if (cronJobs.size > 0 || velero) {
    const g = "homelab-backup.jobs";
    const ours = cronJobs.size > 0 ? jobsOf(cronJobs) : undefined;
    const oomPods = `label_replace(max by (namespace, pod, container) (kube_pod_container_status_terminated_reason{reason="OOMKilled"} == 1) * on (namespace, pod) group_left (owner_name) max by (namespace, pod, owner_name) (kube_pod_owner{owner_kind="Job"}), "job_name", "$1", "owner_name", "(.+)")`;
    const oomParts: string[] = [];
    if (ours)
      oomParts.push(
        `max by (namespace, cronjob, job_name, container) (${oomPods} * on (namespace, job_name) group_left (cronjob) ${ours})`,
      );
    if (velero)
      oomParts.push(
        `max by (namespace, job_name, container) (${oomPods.replace('reason="OOMKilled"', `namespace=${q(velero.namespace)}, reason="OOMKilled"`)})`,
      );
    out.push(
      rule(
        g,
        "BackupJobOOMKilled",
        "warning",
        "jobs",
        oomParts.join("\nor\n"),
        {
          summary: "Backup container OOMKilled",
          description:
            "Container {{ $labels.container }} of backup Job {{ $labels.namespace }}/{{ $labels.job_name }} was killed for exceeding its memory limit. Raise the limit or reduce what the job holds in memory.",
        },
        {
          watches: `pods of the backup CronJobs${velero ? " and Velero's maintenance Jobs" : ""}`,
          firesWhen: "a container terminated with reason OOMKilled (while the pod exists)",
          why: "an OOM kill ends a backup run early; it stays visible until the Job's TTL removes the pod",
        },
        undefined,
        SERIES_NAMESPACE,
      ),
    );
    if (ours) {
      out.push(
        rule(
          g,
          "BackupJobDeadlineExceeded",
          "warning",
          "jobs",
          `max by (namespace, cronjob, job_name) (${ours} * on (namespace, job_name) group_left () (max by (namespace, job_name) (kube_job_status_failed{reason="DeadlineExceeded"}) == 1))`,
          {
            summary: "Backup job exceeded its deadline",
            description:
              "Job {{ $labels.namespace }}/{{ $labels.job_name }} of CronJob {{ $labels.cronjob }} ran longer than its activeDeadlineSeconds and was killed: the backup is growing or the hub is slow.",
          },
          {
            watches: "Jobs of the backup CronJobs",
            firesWhen: "a Job failed with reason DeadlineExceeded",
            why: `runs are killed after activeDeadlineSeconds (${formatSeconds(DEFAULT_ACTIVE_DEADLINE_SECONDS)} by default)`,
          },
          undefined,
          SERIES_NAMESPACE,
        ),
      );
    }
  }
  return out;
}
