/**
 * components/hub/pi/nixos-credentials.sh, run for real: the credentials file lands root-only (0600)
 * in the module's directory, atomically, unchanged on a re-run; the script waits for the server's
 * health endpoint (a real HTTP server on loopback) and, when nothing answers, fails with the message
 * that tells the user to import the module and run nixos-rebuild switch.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/net.js";

const SCRIPT = path.resolve(__dirname, "..", "..", "components", "hub", "pi", "nixos-credentials.sh");
const ENV = "MINIO_ROOT_USER='homelab-admin'\nMINIO_ROOT_PASSWORD='s3cr3t-p4ss-word'\n";

let dir: string;
let server: Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "hub-nixos-cred-"));
  port = await freePort();
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    res.statusCode = req.url === "/minio/health/live" ? 200 : 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runScript(
  env: Record<string, string>,
  stdin: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      "env",
      [...Object.entries(env).map(([k, v]) => `${k}=${v}`), "bash", SCRIPT],
      { timeout: 60_000 },
      (err: any, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

describe("nixos-credentials.sh", () => {
  it("writes the EnvironmentFile 0600 in the module's directory, unchanged on a re-run, and waits for the server", async () => {
    const envFile = path.join(dir, "state", "server.env");
    const env = { HUB_SERVER: "silo", HUB_PORT: String(port), HUB_ENV_FILE: envFile, HUB_WAIT_SECONDS: "5" };
    const first = await runScript(env, ENV);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`credentials written to ${envFile} (0600)`);
    expect(first.stdout).toMatch(/server=silo healthy after 1s/);
    expect(readFileSync(envFile, "utf8")).toBe(ENV);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(envFile)).mode & 0o777).toBe(0o711);
    expect(hits).toContain("/minio/health/live");

    const again = await runScript(env, ENV);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("credentials unchanged");
    // No temp file left behind: the directory holds the one file.
    expect(readdirSync(path.dirname(envFile))).toEqual(["server.env"]);
  });

  it("fails, saying to import the module and run nixos-rebuild switch, when the server does not answer", async () => {
    const envFile = path.join(dir, "down", "server.env");
    const closed = await freePort();
    const r = await runScript(
      {
        HUB_SERVER: "rustfs",
        HUB_PORT: String(closed),
        HUB_ENV_FILE: envFile,
        HUB_WAIT_SECONDS: "2",
        HUB_MODULE_FILE: "homelab-backup-hub.nix",
      },
      "RUSTFS_ACCESS_KEY='a'\nRUSTFS_SECRET_KEY='bbbbbbbb'\n",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /rustfs\.service does not answer on http:\/\/127\.0\.0\.1:\d+\/health\. Import the rendered NixOS module \(homelab-backup-hub\.nix.*nixos-rebuild switch/,
    );
    // The credentials are in place anyway, so the server starts with them after the switch.
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  it("refuses empty credentials and writes nothing", async () => {
    const envFile = path.join(dir, "empty", "server.env");
    const r = await runScript({ HUB_SERVER: "silo", HUB_PORT: String(port), HUB_ENV_FILE: envFile }, "");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no EnvironmentFile content/);
    expect(readdirSync(path.dirname(envFile))).toEqual([]);
  });
});
