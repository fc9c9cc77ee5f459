/**
 * The CRD validator (test/support/crds.ts) must bite: every other test that says "validates against
 * the CRD" is only worth something if wrong objects fail here, each for the reason expected.
 */
import { describe, expect, it } from "vitest";
import { crdKinds, hasCrd, validateCustomResource } from "./crds.js";

const lh = "longhorn.io/v1beta2";
const meta = { name: "x", namespace: "longhorn-system" };

const goodJob = {
  apiVersion: lh,
  kind: "RecurringJob",
  metadata: meta,
  spec: {
    name: "x",
    task: "backup",
    cron: "0 5 * * *",
    retain: 7,
    concurrency: 1,
    groups: [],
    labels: {},
    parameters: {},
  },
};
const goodSchedule = {
  apiVersion: "velero.io/v1",
  kind: "Schedule",
  metadata: { name: "daily", namespace: "velero" },
  spec: { schedule: "0 2 * * *", template: { ttl: "720h0m0s", includedNamespaces: ["*"], storageLocation: "default" } },
};
const goodRule = {
  apiVersion: "monitoring.coreos.com/v1",
  kind: "PrometheusRule",
  metadata: { name: "backups", namespace: "monitoring" },
  spec: {
    groups: [
      {
        name: "backups",
        interval: "1m",
        rules: [{ alert: "BackupStale", expr: "time() - x > 3600", for: "15m", labels: { severity: "warning" } }],
      },
    ],
  },
};
const withSpec = <T extends { spec: object }>(o: T, spec: object): T => ({ ...o, spec: { ...o.spec, ...spec } });
const errorsMention = (obj: unknown, text: string | RegExp) => {
  const errors = validateCustomResource(obj);
  expect(errors.length, `expected errors for ${JSON.stringify(obj)}`).toBeGreaterThan(0);
  expect(errors.join("\n")).toMatch(text);
};

describe("CRD registry", () => {
  it("loads every CRD of test/fixtures/crds (Longhorn, Velero, prometheus-operator)", () => {
    expect(crdKinds()).toEqual(
      expect.arrayContaining([
        `${lh}|BackupTarget`,
        `${lh}|RecurringJob`,
        `${lh}|Setting`,
        `${lh}|Volume`,
        `${lh}|Backup`,
        `${lh}|BackupVolume`,
        "velero.io/v1|Schedule",
        "velero.io/v1|BackupStorageLocation",
        "velero.io/v1|VolumeSnapshotLocation",
        "monitoring.coreos.com/v1|PrometheusRule",
      ]),
    );
    expect(hasCrd(lh, "RecurringJob")).toBe(true);
    expect(hasCrd("longhorn.io/v1beta1", "RecurringJob")).toBe(false);
    expect(hasCrd(lh, "Schedule")).toBe(false);
  });

  it("refuses an object no CRD defines instead of passing it", () => {
    errorsMention(
      { ...goodJob, apiVersion: "longhorn.io/v1beta1" },
      /no CRD .* defines RecurringJob at longhorn.io\/v1beta1/,
    );
    errorsMention({ apiVersion: lh, kind: "BackupTargett", metadata: meta }, /no CRD/);
    expect(validateCustomResource("not an object").length).toBe(1);
  });
});

describe("Longhorn objects", () => {
  it("accepts a complete RecurringJob and refuses retain as a string, an unknown task, an unknown field", () => {
    expect(validateCustomResource(goodJob)).toEqual([]);
    errorsMention(withSpec(goodJob, { retain: "7" }), /\/spec\/retain must be integer/);
    errorsMention(
      withSpec(goodJob, { task: "nightly-backup" }),
      /\/spec\/task must be equal to one of the allowed values/,
    );
    errorsMention(withSpec(goodJob, { fullBackupInterval: 7 }), /additional properties \(fullBackupInterval\)/);
    errorsMention(
      withSpec(goodJob, { parameters: { "full-backup-interval": 7 } }),
      /parameters\/full-backup-interval must be string/,
    );
  });

  it("reads a Setting's value at the top level, required, and refuses a spec", () => {
    const setting = { apiVersion: lh, kind: "Setting", metadata: meta, value: "true" };
    expect(validateCustomResource(setting)).toEqual([]);
    errorsMention({ apiVersion: lh, kind: "Setting", metadata: meta }, /required property 'value'/);
    errorsMention({ ...setting, value: true }, /\/value must be string/);
    errorsMention(
      { apiVersion: lh, kind: "Setting", metadata: meta, spec: { value: "true" } },
      /additional properties \(spec\)|required property 'value'/,
    );
  });

  it("accepts a BackupTarget spec and refuses a wrongly typed pollInterval and the pre-1.8 field names", () => {
    const bt = {
      apiVersion: lh,
      kind: "BackupTarget",
      metadata: { name: "default", namespace: "longhorn-system" },
      spec: { backupTargetURL: "s3://b@us-east-1/longhorn/", credentialSecret: "c", pollInterval: "5m0s" },
    };
    expect(validateCustomResource(bt)).toEqual([]);
    errorsMention(withSpec(bt, { pollInterval: 300 }), /pollInterval must be string/);
    errorsMention(withSpec(bt, { backupTarget: "s3://b@us-east-1/" }), /additional properties \(backupTarget\)/);
  });
});

describe("Velero Schedule (Go (?i) patterns compiled, unknown fields refused)", () => {
  it("accepts a valid Schedule", () => {
    expect(validateCustomResource(goodSchedule)).toEqual([]);
  });
  it("refuses a misspelt field, a wrongly typed field and a missing schedule", () => {
    errorsMention(withSpec(goodSchedule, { scheduel: "0 2 * * *" }), /additional properties \(scheduel\)/);
    errorsMention(withSpec(goodSchedule, { template: { ttl: 720 } }), /template\/ttl must be string/);
    errorsMention(withSpec(goodSchedule, { useOwnerReferencesInBackup: "yes" }), /must be boolean/);
    const { schedule: _dropped, ...noSchedule } = goodSchedule.spec;
    errorsMention({ ...goodSchedule, spec: noSchedule }, /required property 'schedule'/);
  });
});

describe("PrometheusRule", () => {
  it("accepts a valid rule, an integer expr (int-or-string) and a case-insensitive partial_response_strategy", () => {
    expect(validateCustomResource(goodRule)).toEqual([]);
    const intExpr = { ...goodRule, spec: { groups: [{ name: "g", rules: [{ record: "r", expr: 1 }] }] } };
    expect(validateCustomResource(intExpr)).toEqual([]);
    const upper = { ...goodRule, spec: { groups: [{ name: "g", partial_response_strategy: "WARN", rules: [] }] } };
    expect(validateCustomResource(upper)).toEqual([]);
  });
  it("refuses a bad `for`, a non-scalar expr, an unknown strategy and a group without name", () => {
    errorsMention(
      { ...goodRule, spec: { groups: [{ name: "g", rules: [{ alert: "A", expr: "up == 0", for: "5 minutes" }] }] } },
      /rules\/0\/for must match pattern/,
    );
    errorsMention(
      { ...goodRule, spec: { groups: [{ name: "g", rules: [{ alert: "A", expr: { q: "up" } }] }] } },
      /rules\/0\/expr must match a schema in anyOf/,
    );
    errorsMention(
      { ...goodRule, spec: { groups: [{ name: "g", partial_response_strategy: "ignore", rules: [] }] } },
      /partial_response_strategy must match pattern/,
    );
    errorsMention({ ...goodRule, spec: { groups: [{ rules: [] }] } }, /required property 'name'/);
  });
});
