/**
 * Runs a container's command as its pod would, against the files its ConfigMap volumes carry: each
 * volume is laid out in a scratch directory as the kubelet projects it (every key at the top of the
 * mount, or, when the volume lists `items`, only those keys, each at its path), and the paths under a
 * mount point in the command and in the env values point there. What this proves is that a script
 * finds, in the pod, what it reads or sources beside itself, not only in a checkout of the repository.
 *
 * `rcloneEnvStandIn` is an rclone that records the rclone remotes (`RCLONE_CONFIG_*`) and credential
 * variables it was started with, then fails, so a script stops at its first real rclone call.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { userlandPath } from "./userland.js";

interface Mount {
  readonly name: string;
  readonly mountPath: string;
}
interface Volume {
  readonly name: string;
  readonly configMap?: { readonly name: string; readonly items?: { key: string; path: string }[] };
}
interface Container {
  readonly command: string[];
  readonly env?: { name: string; value?: string }[];
  readonly volumeMounts?: Mount[];
}
export interface PodSpec {
  readonly containers: Container[];
  readonly volumes?: Volume[];
}

/**
 * Lays out the pod's ConfigMap volumes of its first container under a scratch root and runs the
 * container's command under BusyBox ash, the shell of the Alpine job images (its BusyBox applets first
 * on `env.PATH`), with the container's plain env values and `env` on top. `configMaps` holds the data
 * of each ConfigMap by name.
 */
export function runPodCommand(
  pod: PodSpec,
  configMaps: Record<string, Record<string, string>>,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = mkdtempSync(path.join(tmpdir(), "pod-scripts-"));
  const container = pod.containers[0];
  const mounts: string[] = [];
  for (const m of container.volumeMounts ?? []) {
    const cm = pod.volumes?.find((v) => v.name === m.name)?.configMap;
    if (!cm) continue;
    const data = configMaps[cm.name];
    if (!data) throw new Error(`no data for ConfigMap ${cm.name}`);
    const items = cm.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const { key, path: rel } of items) {
      if (!(key in data)) throw new Error(`ConfigMap ${cm.name} has no key ${key}`);
      const file = path.join(root, m.mountPath, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, data[key], { mode: 0o555 });
    }
    mounts.push(m.mountPath);
  }
  const reroot = (arg: string) => (mounts.some((p) => arg.startsWith(`${p}/`)) ? path.join(root, arg) : arg);
  const [shell, ...args] = container.command;
  if (path.basename(shell) !== "sh") throw new Error(`the command runs ${shell}, not sh`);
  const plain = Object.fromEntries(
    (container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, reroot(e.value!)]),
  );
  return new Promise((resolve) => {
    const child = spawn("sh", args.map(reroot), {
      env: { ...plain, ...env, PATH: userlandPath(env.PATH, "busybox") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => {
      rmSync(root, { recursive: true, force: true });
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * An rclone stand-in: `obscure -` answers `obscured(<stdin>)`; any other call writes the sorted
 * `RCLONE_CONFIG_*` variables and the credential variables still set (AWS_*, HUB_*_KEY*, OFFSITE_FTP_PASSWORD,
 * OFFSITE_ENCRYPTION_KEY, AUDIT_S3_*_KEY*) where `read` finds them, then exits 1. `read` gives undefined when rclone was
 * never started (the script stopped before, e.g. on a file it could not source).
 */
export function rcloneEnvStandIn(): { rclone: string; read: () => Record<string, string> | undefined } {
  const dir = mkdtempSync(path.join(tmpdir(), "rclone-env-"));
  const rclone = path.join(dir, "rclone");
  const out = path.join(dir, "env");
  writeFileSync(
    rclone,
    `#!/bin/sh
if [ "$1" = obscure ]; then printf 'obscured(%s)' "$(cat)"; exit 0; fi
env | grep -E '^(RCLONE_CONFIG_|AWS_|HUB_ACCESS_KEY_ID=|HUB_SECRET_ACCESS_KEY=|OFFSITE_FTP_PASSWORD=|OFFSITE_ENCRYPTION_KEY=|AUDIT_S3_ACCESS_KEY_ID=|AUDIT_S3_SECRET_ACCESS_KEY=)' | sort > '${out}'
exit 1
`,
  );
  chmodSync(rclone, 0o755);
  const read = () =>
    existsSync(out)
      ? Object.fromEntries(
          readFileSync(out, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
        )
      : undefined;
  return { rclone, read };
}
