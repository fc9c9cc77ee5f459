/** BackupJobRunningTooLong under promtool: fires for an active Job of a backup CronJob past the limit only. */
import { describe, expect, it } from "vitest";
import { longRunningJobRules } from "../../components/alerts/longRunningJobs.js";
import { expandAnnotations, promtoolTest } from "../support/promtool.js";

const cronJobs = new Map([
  ["wiki", ["pg-dump-wiki"]],
  ["longhorn-system", ["daily-backup", "hourly-snap"]],
]);
const rules = longRunningJobRules(cronJobs, 30).map((b) => b.rule);
const owner = (ns: string, job: string, cj: string) => ({
  series: `kube_job_owner{namespace="${ns}", job_name="${job}", owner_kind="CronJob", owner_name="${cj}", owner_is_controller="true"}`,
  values: "1x60",
});
const start = (ns: string, job: string) => ({
  series: `kube_job_status_start_time{namespace="${ns}", job_name="${job}"}`,
  values: "0x60",
});
const active = (ns: string, job: string, v: string) => ({
  series: `kube_job_status_active{namespace="${ns}", job_name="${job}"}`,
  values: v,
});

describe("BackupJobRunningTooLong", () => {
  it("fires for a backup Job still active past 30 minutes; not for a finished one, nor another CronJob's", async () => {
    const labels = {
      severity: "warning",
      class: "jobs",
      namespace: "longhorn-system",
      cronjob: "daily-backup",
      job_name: "daily-backup-29000000",
      backup_namespace: "longhorn-system",
    };
    const { check, test } = await promtoolTest(
      [{ name: "jobs", rules }],
      [
        {
          interval: "1m",
          input_series: [
            owner("longhorn-system", "daily-backup-29000000", "daily-backup"),
            start("longhorn-system", "daily-backup-29000000"),
            active("longhorn-system", "daily-backup-29000000", "1x60"),
            // Finished after 40 minutes: active drops to 0.
            owner("wiki", "pg-dump-wiki-1", "pg-dump-wiki"),
            start("wiki", "pg-dump-wiki-1"),
            active("wiki", "pg-dump-wiki-1", "1x20 0x40"),
            // Not a backup CronJob of this stack.
            owner("apps", "report-1", "report"),
            start("apps", "report-1"),
            active("apps", "report-1", "1x60"),
          ],
          alert_rule_test: [
            { eval_time: "29m", alertname: "BackupJobRunningTooLong", exp_alerts: [] },
            {
              eval_time: "31m",
              alertname: "BackupJobRunningTooLong",
              exp_alerts: [{ exp_labels: labels, exp_annotations: expandAnnotations(rules[0].annotations, labels) }],
            },
          ],
        },
      ],
    );
    expect(check.code, check.output).toBe(0);
    expect(test.code, test.output).toBe(0);
  });

  it("needs backup CronJobs", () => {
    expect(longRunningJobRules(new Map(), 30)).toEqual([]);
  });
});
