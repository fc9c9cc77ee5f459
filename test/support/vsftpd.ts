/**
 * A real vsftpd on a loopback port with explicit TLS (a self-signed certificate rclone verifies through
 * SSL_CERT_FILE), logging in a local user created for the test: the setup of
 * the off-site copy's and the off-site drill's tests (test/offsite, test/drills).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import * as path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./net.js";

const run = promisify(execFile);

export interface Vsftpd {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The user's home: "/" of an FTP session. */
  readonly home: string;
  /** The server certificate, for SSL_CERT_FILE. */
  readonly certFile: string;
  /** Takes the server down (an outage) and keeps the user, the home and the port's configuration. */
  halt(): Promise<void>;
  /** Takes the server down and removes the user the test created. */
  stop(): Promise<void>;
}

function exec(cmd: string, args: string[], stdin = ""): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

/** Starts vsftpd with its config, certificate and the user's home under `dir` (a temp dir the caller removes). */
export async function startVsftpd(dir: string, user: string, password: string): Promise<Vsftpd> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const home = path.join(dir, "ftp-home");
  mkdirSync(home);
  let created = false;
  if ((await exec("id", [user])).code !== 0) {
    await run("useradd", ["-M", "-d", home, "-s", "/bin/bash", user]);
    created = true;
  } else {
    await run("usermod", ["-d", home, user]);
  }
  const chp = await exec("chpasswd", [], `${user}:${password}\n`);
  if (chp.code !== 0) throw new Error(`chpasswd: ${chp.stderr}`);
  await run("chown", [user, home]);
  const certFile = path.join(dir, "cert.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    path.join(dir, "key.pem"),
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  const port = await freePort();
  const pasv = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(
    path.join(dir, "vsftpd.conf"),
    [
      "listen=YES",
      "listen_ipv6=NO",
      "listen_address=127.0.0.1",
      `listen_port=${port}`,
      "background=NO",
      "anonymous_enable=NO",
      "local_enable=YES",
      "write_enable=YES",
      "local_umask=022",
      "chroot_local_user=YES",
      "allow_writeable_chroot=YES",
      "pasv_enable=YES",
      "pasv_address=127.0.0.1",
      `pasv_min_port=${pasv}`,
      `pasv_max_port=${pasv + 40}`,
      "ssl_enable=YES",
      `rsa_cert_file=${certFile}`,
      `rsa_private_key_file=${dir}/key.pem`,
      "force_local_logins_ssl=YES",
      "force_local_data_ssl=YES",
      // Go's FTP client does not resume TLS sessions on the data connection.
      "require_ssl_reuse=NO",
      "ssl_ciphers=HIGH",
      // No seccomp/namespace sandbox: unavailable in this container.
      "seccomp_sandbox=NO",
      "isolate=NO",
      "isolate_network=NO",
      "pam_service_name=vsftpd",
      "userlist_enable=NO",
      "secure_chroot_dir=/var/run/vsftpd/empty",
      `vsftpd_log_file=${dir}/vsftpd.log`,
      "",
    ].join("\n"),
  );
  mkdirSync("/var/run/vsftpd/empty", { recursive: true });
  const child: ChildProcess = spawn("vsftpd", [path.join(dir, "vsftpd.conf")], {
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  });
  let up = false;
  for (let i = 0; i < 50 && !up; i++) {
    up = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  const halt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      // vsftpd forks a process per session: end the whole group it leads.
      process.kill(-child.pid!, "SIGTERM");
      await exited;
    }
  };
  const stop = async () => {
    await halt();
    if (created) await run("userdel", [user]).catch(() => undefined);
  };
  if (!up) {
    await stop();
    throw new Error("vsftpd did not start");
  }
  return { port, user, password, home, certFile, halt, stop };
}
