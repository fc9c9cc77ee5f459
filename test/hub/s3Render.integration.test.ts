/**
 * `npm run render` of an s3 hub managed with the admin key (test/fixtures/Pulumi.s3-rgw.yaml): no SSH
 * command and no AWS resource anywhere, the bucket settings and one identity per writer as resources,
 * the conformance step after them, the plan says what the hub guarantees, and the admin secret
 * appears nowhere in the output.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/stackFiles.js";

const run = promisify(execFile);
const out = mkdtempSync(path.join(tmpdir(), "render-s3-"));
let resources: { type: string; name: string; parent: string | null; inputs: any }[];
let plan: string;

beforeAll(async () => {
  await run(
    path.join(REPO, "node_modules/.bin/tsx"),
    [
      path.join(REPO, "tools/render.ts"),
      "--stack-file",
      path.join(REPO, "test/fixtures/Pulumi.s3-rgw.yaml"),
      "--out",
      out,
    ],
    {
      cwd: REPO,
      maxBuffer: 64 << 20,
    },
  );
  resources = JSON.parse(readFileSync(path.join(out, "resources.json"), "utf8"));
  plan = readFileSync(path.join(out, "plan.md"), "utf8");
}, 600_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe("render of an s3 hub with manage: admin", () => {
  it("has no SSH command, no file sent to a host and no AWS resource", () => {
    expect(resources.filter((r) => r.type.startsWith("command:remote:"))).toEqual([]);
    expect(resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(readdirSync(path.join(out, "files")).filter((f) => f === "hub")).toEqual([]);
  });

  it("declares the bucket settings and one identity per writer the stack uses, and the conformance step", () => {
    expect(
      resources.filter((r) => r.type === "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket").map((r) => r.name),
    ).toEqual(["hub-s3-bucket"]);
    expect(
      resources
        .filter((r) => r.type === "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["hub-s3-audit", "hub-s3-etcd", "hub-s3-longhorn", "hub-s3-postgres", "hub-s3-velero"]);
    const check = resources.find((r) => r.type === "command:local:Command" && r.name === "hub-s3-conformance");
    expect(check?.inputs.create).toBe("node --import tsx components/hub/s3-hub.ts check");
  });

  it("the plan names the server, who manages it, and what it guarantees", () => {
    expect(plan).toMatch(
      /Bucket `homelab-rgw-backups` on an existing ceph-rgw server at `https:\/\/rgw.lab.home.arpa`/,
    );
    expect(plan).toMatch(/nothing runs over SSH/);
    expect(plan).toMatch(/Guarantees: versioning .*; object lock; append-only writers/);
    expect(plan).toMatch(/conformance step/);
  });

  it("the admin secret appears in no output file", () => {
    for (const f of allFiles(out)) expect(readFileSync(f, "utf8"), f).not.toContain("sample-rgw-admin-secret");
  });
});
