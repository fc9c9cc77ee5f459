/**
 * Removing the `longhorn` section (or `pulumi destroy`): the options LonghornBackupTarget registers
 * decide what the engine deletes. The credential Secret, the BackupTarget patch and the Setting patch
 * are retained (the provider's delete of a Patch would give up fields the Setting's CRD requires, and
 * the target would be left pointing at a deleted Secret: components/longhorn/longhornBackupTarget.ts);
 * the RecurringJobs, PVC label patches and StorageClasses are not, so removal does stop the jobs. The
 * plan says what stays and how to detach the target by hand.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { DETACHED_SETTING, LONGHORN_CREDENTIAL_SECRET } from "../../components/longhorn/logic.js";
import { longhornPlan } from "../../components/longhorn/plan.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

const SECTION = {
  namespace: "storage",
  recurringJobs: [
    {
      name: "nightly",
      cron: "0 5 * * *",
      task: "backup",
      retain: 7,
      groups: ["default"],
      pvcs: [{ namespace: "wiki", name: "wiki-data" }],
    },
  ],
  storageClasses: [{ name: "longhorn-nightly", recurringJobs: ["nightly"] }],
};
const stack = parseStackConfig({
  "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups", region: "eu-central-1" }),
  "homelab-backup:longhorn": JSON.stringify(SECTION),
});

let rec: RecordingMocks;
beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { LonghornBackupTarget } = await import("../../components/longhorn/longhornBackupTarget.js");
  new LonghornBackupTarget("lh", {
    config: stack.longhorn!,
    target: {
      endpoint: "https://s3.eu-central-1.amazonaws.com",
      bucket: "homelab-backups",
      region: "eu-central-1",
      prefix: "longhorn/",
      pathStyle: false,
      accessKeyId: pulumi.output("AKIAEXAMPLE"),
      secretAccessKey: pulumi.secret("aws-secret"),
    },
  });
  await settle();
});

/** The registered retainOnDelete of every custom resource of the component, by type. */
function retained(): Record<string, boolean[]> {
  const out: Record<string, boolean[]> = {};
  for (const r of rec.resources.filter((x) => x.custom && x.parent === "lh")) {
    if (!r.options) throw new Error(`${r.name}: no registered options`);
    (out[r.type] ??= []).push(r.options.retainOnDelete);
  }
  return out;
}

describe("removing the longhorn section", () => {
  it("retains the credential Secret, BackupTarget/default and the Setting; deletes the jobs, PVC labels and StorageClasses", () => {
    expect(retained()).toEqual({
      "kubernetes:core/v1:Secret": [true],
      "kubernetes:longhorn.io/v1beta2:BackupTargetPatch": [true],
      "kubernetes:longhorn.io/v1beta2:SettingPatch": [true],
      "kubernetes:longhorn.io/v1beta2:RecurringJob": [false],
      "kubernetes:core/v1:PersistentVolumeClaimPatch": [false],
      "kubernetes:storage.k8s.io/v1:StorageClass": [false],
    });
  });

  it("the target names the Secret that is retained with it, so it never points at a deleted one", () => {
    const [bt] = rec.byType("kubernetes:longhorn.io/v1beta2:BackupTargetPatch");
    const [secret] = rec.byType("kubernetes:core/v1:Secret");
    expect(unwrapSecrets(bt.inputs).spec.credentialSecret).toBe(unwrapSecrets(secret.inputs).metadata.name);
    expect(unwrapSecrets(secret.inputs).metadata).toMatchObject({
      name: LONGHORN_CREDENTIAL_SECRET,
      namespace: "storage",
    });
  });

  it("the plan says Longhorn keeps its target, setting and credentials, and how to detach the target by hand", () => {
    const { details } = longhornPlan(stack);
    expect(details).toContain(
      "Removing the `longhorn` section (or `pulumi destroy`) deletes this stack's RecurringJobs and StorageClasses",
    );
    expect(details).toContain("**Longhorn keeps its backup target, settings and credentials**");
    expect(details).toContain(`the Secret \`storage/${LONGHORN_CREDENTIAL_SECRET}\` stays`);
    expect(details).toContain(
      `\`kubectl -n storage patch backuptargets.longhorn.io default --type merge -p '{"spec":{"backupTargetURL":"","credentialSecret":""}}'\``,
    );
    expect(details).toContain(`\`kubectl -n storage delete secret ${LONGHORN_CREDENTIAL_SECRET}\``);
    expect(details).toContain(
      `\`kubectl -n storage patch settings.longhorn.io ${DETACHED_SETTING} --type merge -p '{"value":"false"}'\``,
    );
  });
});
