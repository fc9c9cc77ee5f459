/** Policy 1: a Longhorn backup job keeps more backups than its full-backup interval. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isObj } from "./support.js";
import { k8sLabel } from "./support.js";
import { withStackKey } from "../components/core/stackKey.js";
import { resourceStackKey } from "./stackKeys.js";

export const LONGHORN_RECURRING_JOB = /^kubernetes:longhorn\.io\/v1beta[12]:RecurringJob(Patch)?$/;

export const longhornRetainPolicy: ResourceValidationPolicy = {
  name: "longhorn-retain-exceeds-full-backup-interval",
  description:
    "A Longhorn RecurringJob with parameters.full-backup-interval keeps more backups than the interval, so the oldest kept chain still has its full backup.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (!LONGHORN_RECURRING_JOB.test(args.type)) args.notApplicable("not a Longhorn RecurringJob");
    const spec = isObj(args.props?.spec) ? args.props.spec : {};
    const raw = isObj(spec.parameters) ? spec.parameters["full-backup-interval"] : undefined;
    if (raw === undefined || raw === null) return;
    const label = k8sLabel(args.type, args.props, args.name);
    // The RecurringJob's annotation names its entry (`longhorn.recurringJobs[1]`).
    const entry = resourceStackKey({ name: args.name, props: isObj(args.props) ? args.props : {} });
    const key = (field: string) => (entry && entry !== "longhorn" ? `${entry}.${field}` : `longhorn.recurringJobs`);
    if (!/^\d+$/.test(String(raw).trim())) {
      report(
        withStackKey(
          `${label}: spec.parameters.full-backup-interval is ${JSON.stringify(raw)}; Longhorn expects a non-negative integer as a string`,
          key("fullBackupInterval"),
        ),
      );
      return;
    }
    const interval = Number(String(raw).trim());
    const retain = spec.retain;
    if (typeof retain !== "number") {
      report(
        withStackKey(
          `${label}: spec.retain is not set; with spec.parameters.full-backup-interval ${interval} it must be an integer greater than ${interval}`,
          key("retain"),
        ),
      );
    } else if (retain <= interval) {
      report(
        withStackKey(
          `${label}: spec.retain (${retain}) must be greater than spec.parameters.full-backup-interval (${interval}): otherwise the oldest kept chain loses its full backup and its incremental backups cannot be restored`,
          key("retain"),
        ),
      );
    }
  },
};
