/**
 * A real S3 protocol peer on loopback (the `s3rver` npm package) for integration tests, with an
 * rclone config that points at it. Each peer has its own temp directory and port; stop it in afterAll.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { userlandPath } from "./userland.js";

export interface S3Peer {
  readonly endpoint: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly dir: string;
  /** Environment for rclone: a remote named `hub` (RCLONE_CONFIG_HUB_*) pointing at this peer. */
  readonly rcloneEnv: Record<string, string>;
  /** Writes an rclone.conf with a `[hub]` remote and returns its path. */
  rcloneConfig(): string;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** s3rver accepts these fixed credentials. */
const KEY_ID = "S3RVER";
const SECRET = "S3RVER";

/**
 * The environment for a child process that talks to loopback servers: the host's proxy and CA-bundle
 * variables removed (rclone refuses AWS_CA_BUNDLE with its own transport), `extra` added, and PATH
 * set for the userland of this run (BusyBox applets first under TEST_USERLAND=busybox: userland.ts).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(AWS_|RCLONE_)|_PROXY$|^(http|https|no)_proxy$/i.test(k)) delete env[k];
  return { ...env, PATH: userlandPath(env.PATH), ...extra };
}

export async function startS3Peer(buckets: string[] = ["backups"]): Promise<S3Peer> {
  const dir = mkdtempSync(path.join(tmpdir(), "s3peer-"));
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(__dirname, "s3peer-server.cjs"), path.join(dir, "data"), ...buckets],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const rcloneEnv = {
    RCLONE_CONFIG_HUB_TYPE: "s3",
    RCLONE_CONFIG_HUB_PROVIDER: "Other",
    RCLONE_CONFIG_HUB_ENDPOINT: endpoint,
    RCLONE_CONFIG_HUB_ACCESS_KEY_ID: KEY_ID,
    RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: SECRET,
    RCLONE_CONFIG_HUB_REGION: "us-east-1",
    RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "true",
  };
  return {
    endpoint,
    port,
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    dir,
    rcloneEnv,
    rcloneConfig() {
      const file = path.join(dir, "rclone.conf");
      writeFileSync(
        file,
        `[hub]\ntype = s3\nprovider = Other\nendpoint = ${endpoint}\naccess_key_id = ${KEY_ID}\nsecret_access_key = ${SECRET}\nregion = us-east-1\nforce_path_style = true\n`,
      );
      return file;
    },
    async createBucket(name: string) {
      const res = await fetch(`${endpoint}/${name}`, { method: "PUT" });
      if (!res.ok && res.status !== 409) throw new Error(`create bucket ${name}: HTTP ${res.status}`);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
