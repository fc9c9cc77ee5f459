/** A real single-member etcd on loopback ports for integration tests (Debian's etcd-server). */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { childEnv } from "./s3peer.js";

const run = promisify(execFile);

export interface Etcd {
  readonly client: string;
  readonly child: ChildProcess;
}

export async function startEtcd(name: string, dataDir: string, clientPort: number, peerPort: number): Promise<Etcd> {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    "etcd",
    [
      "--name",
      name,
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      client,
      "--advertise-client-urls",
      client,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      `${name}=${peer}`,
    ],
    { stdio: "ignore", env: childEnv({ ETCD_UNSUPPORTED_ARCH: process.arch === "x64" ? "" : process.arch }) },
  );
  for (let i = 0; i < 150; i++) {
    try {
      await run("etcdctl", ["--endpoints", client, "endpoint", "health"], { env: childEnv() });
      return { client, child };
    } catch {
      if (child.exitCode !== null) throw new Error(`etcd ${name} exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`etcd ${name} did not become healthy`);
}

export async function stopEtcd(e: Etcd | undefined): Promise<void> {
  if (!e || e.child.exitCode !== null || e.child.signalCode !== null) return;
  const exited = new Promise((r) => e.child.once("exit", r));
  e.child.kill("SIGTERM");
  await exited;
}
