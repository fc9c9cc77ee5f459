/**
 * Every policy of the homelab-backup pack, one file per domain. Importing this builds nothing:
 * `index.ts` constructs the PolicyPack (which starts the analyzer's gRPC server), `evaluate.ts` runs the
 * same policies offline. Every verdict names the stack-file key to change (policies/stackKeys.ts): a
 * policy that knows the field names it, and `withStackKeys` gives the rest the key of the resource at
 * fault, or the section the policy guards.
 */
import type { Policies } from "@pulumi/policy";
import { backupsAlertedPolicy } from "./alerts.js";
import { backupCronJobPolicy } from "./cronJobs.js";
import { iamLeastPrivilegePolicy } from "./iam.js";
import { pinnedImagesPolicy } from "./images.js";
import { longhornRetainPolicy } from "./longhorn.js";
import { hubGuaranteesReportedPolicy, s3BucketPolicy } from "./s3Bucket.js";
import { noPlaintextSecretsPolicy } from "./secrets.js";
import { withStackKeys } from "./stackKeys.js";
import { veleroTtlPolicy } from "./velero.js";

export const policies: Policies = [
  withStackKeys(longhornRetainPolicy, "longhorn"),
  withStackKeys(backupCronJobPolicy, "hub"),
  withStackKeys(pinnedImagesPolicy, "hub"),
  withStackKeys(s3BucketPolicy, "hub"),
  withStackKeys(hubGuaranteesReportedPolicy, "hub"),
  withStackKeys(iamLeastPrivilegePolicy, "hub"),
  withStackKeys(veleroTtlPolicy, "velero"),
  withStackKeys(backupsAlertedPolicy, "alerts"),
  withStackKeys(noPlaintextSecretsPolicy, "hub"),
];

/** The name of every policy of the pack, in order: plan.md lists them all, failing or not. */
export const POLICY_NAMES: readonly string[] = policies.map((p) => p.name);
