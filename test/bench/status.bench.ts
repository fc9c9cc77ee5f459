/**
 * npm run bench:status: what `npm run status` costs on a hub with much data and a long history. A real
 * Ceph RGW (test/support/rgw.ts) holds 100,000 Longhorn block objects (BENCH_BLOCKS) and a year of
 * daily restore points (BENCH_DAYS) for five items: two Longhorn volumes, a PostgreSQL dump, a Velero
 * schedule and an etcd node, each laid out as its producer writes it, plus 100 Velero Kopia objects.
 * `status` reads it with the audit reader's real policy through a recording proxy; the bench prints
 * the requests it made by kind and its wall time (the whole `tsx tools/status.ts` process). Not part of
 * `npm test`: the upload alone takes minutes.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { auditReaderPolicy } from "../../components/hub/iam.js";
import { ensureRgwWriter, s3Client } from "../../components/hub/s3/s3Api.js";
import type { StatusReport } from "../../tools/status.js";
import { startRecordingProxy } from "../support/recordingProxy.js";
import { startRgw } from "../support/rgw.js";
import { childEnv } from "../support/s3peer.js";
import { DAY, HubStage, statusSpecFor } from "../support/statusData.js";

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 100_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 365);
const BUCKET = "bench-status";
const ROOT = path.resolve(__dirname, "..", "..");

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-status-"));
  const rgw = await startRgw({ timeoutMs: 480_000 });
  try {
    const admin = { accessKeyId: rgw.adminAccessKeyId, secretAccessKey: rgw.adminSecretAccessKey };
    const target = { endpoint: rgw.endpoint, region: "us-east-1" };
    await s3Client(target, admin).send(new CreateBucketCommand({ Bucket: BUCKET }));
    const reader = {
      accessKeyId: randomBytes(10).toString("hex").toUpperCase(),
      secretAccessKey: randomBytes(20).toString("base64url"),
    };
    await ensureRgwWriter(target, admin, { userName: "bench-audit", key: reader, policy: auditReaderPolicy(BUCKET) });

    const now = Math.floor(Date.now() / 1000);
    const days = Array.from({ length: DAYS }, (_, i) => now - (DAYS - i) * DAY + 3600);
    const s = new HubStage(path.join(dir, "stage"));
    s.longhorn("pvc-11111111-bench1", now - (DAYS + 1) * DAY, days, Math.ceil(BLOCKS / 2));
    s.longhorn("pvc-22222222-bench2", now - (DAYS + 1) * DAY, days, Math.floor(BLOCKS / 2));
    for (const t of days) {
      s.postgres("wiki", t, `dump of ${t}`);
      s.velero("daily", t);
      s.etcd("cp-1", t, `snapshot ${t}`);
    }
    s.kopia(100);
    const t0 = Date.now();
    const up = await run(
      "rclone",
      [
        "--config",
        "",
        "copy",
        "--transfers",
        "64",
        "--checkers",
        "64",
        "--no-traverse",
        "--no-check-dest",
        s.dir,
        `up:${BUCKET}`,
      ],
      childEnv({
        RCLONE_CONFIG_UP_TYPE: "s3",
        RCLONE_CONFIG_UP_PROVIDER: "Ceph",
        RCLONE_CONFIG_UP_ENDPOINT: rgw.endpoint,
        RCLONE_CONFIG_UP_REGION: "us-east-1",
        RCLONE_CONFIG_UP_FORCE_PATH_STYLE: "true",
        RCLONE_CONFIG_UP_ACCESS_KEY_ID: admin.accessKeyId,
        RCLONE_CONFIG_UP_SECRET_ACCESS_KEY: admin.secretAccessKey,
      }),
    );
    if (up.code !== 0) throw new Error(`upload failed: ${up.stderr.slice(-2000)}`);
    const objects = BLOCKS + 2 * DAYS + 1 + 2 + 3 * 2 * DAYS + 1 + 100;
    process.stdout.write(`hub: ${objects} objects uploaded in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

    const proxy = await startRecordingProxy(rgw.endpoint);
    const spec = statusSpecFor(
      { endpoint: proxy.endpoint, bucket: BUCKET, provider: "Ceph" },
      { postgres: ["wiki"], velero: ["daily"], mirrors: [] },
    );
    const outputs = path.join(dir, "outputs.json");
    writeFileSync(
      outputs,
      JSON.stringify({
        statusSpec: { ...spec, audit: { ...spec.audit, mirrors: undefined } },
        statusReaderAccessKeyId: reader.accessKeyId,
        statusReaderSecretAccessKey: reader.secretAccessKey,
      }),
    );
    const t1 = Date.now();
    const r = await run(
      process.execPath,
      ["--import", "tsx", "tools/status.ts", "--outputs", outputs, "--json"],
      childEnv(),
    );
    const seconds = (Date.now() - t1) / 1000;
    if (r.code !== 0) throw new Error(`status exited ${r.code} (expected 0, every item fresh): ${r.stderr}${r.stdout}`);
    const rep = JSON.parse(r.stdout) as StatusReport;
    const by = (p: (x: { method: string; url: string; status: number }) => boolean) => proxy.requests.filter(p).length;
    const lists = by((x) => x.method === "GET" && /\?(.*&)?(delimiter|list-type|prefix)=/.test(x.url));
    const gets = by((x) => x.method === "GET") - lists;
    const heads = by((x) => x.method === "HEAD");
    const denied = by((x) => x.status === 403);
    const touched = by((x) => /blocks%2F|\/blocks\/|kopia/.test(x.url));
    process.stdout.write(
      [
        `status: ${rep.rows.length} items (${rep.rows.map((x) => `${x.cls}/${x.item} ${x.state}, ${x.restorePoints} points`).join("; ")})`,
        `status: ${proxy.requests.length} requests (${lists} LIST, ${gets} GET, ${heads} HEAD, ${denied} refused, ${touched} under blocks/ or kopia/) in ${seconds.toFixed(2)} s`,
        "",
      ].join("\n"),
    );
    await proxy.stop();
  } finally {
    await rgw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
