/**
 * Every policy of the homelab-backup pack, one file per domain. Importing this builds nothing:
 * `index.ts` constructs the PolicyPack (which starts the analyzer's gRPC server), `evaluate.ts` runs the
 * same policies offline.
 */
import type { Policies } from "@pulumi/policy";
import { backupsAlertedPolicy } from "./alerts.js";
import { backupCronJobPolicy } from "./cronJobs.js";
import { iamLeastPrivilegePolicy } from "./iam.js";
import { pinnedImagesPolicy } from "./images.js";
import { longhornRetainPolicy } from "./longhorn.js";
import { s3BucketPolicy } from "./s3Bucket.js";
import { noPlaintextSecretsPolicy } from "./secrets.js";
import { veleroTtlPolicy } from "./velero.js";

export const policies: Policies = [
  longhornRetainPolicy,
  backupCronJobPolicy,
  pinnedImagesPolicy,
  s3BucketPolicy,
  iamLeastPrivilegePolicy,
  veleroTtlPolicy,
  backupsAlertedPolicy,
  noPlaintextSecretsPolicy,
];
