/**
 * The Pi hub's arrivals check (components/alerts/hub-arrivals.sh) as the timer runs it, under BusyBox
 * sh and dash, with real curl against loopback receivers: an HTTP server standing in for ntfy and a
 * Slack webhook, and a minimal SMTP server. It reports once when no object arrived for the window
 * (system folders and staging uploads do not count), stays quiet until the repeat interval, reports
 * the recovery, retries a failed notification, and never puts a credential on curl's command line.
 * The units pass systemd-analyze verify.
 */
import { execFile, spawn } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
  existsSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderArrivalsUnits } from "../../components/alerts/arrivals.js";

const ROOT = path.resolve(__dirname, "..", "..");
const SCRIPT = path.join(ROOT, "components", "alerts", "hub-arrivals.sh");
const TOKEN = "tk_ntfy-secret-token";
const SLACK_PATH = "/services/T000/B000/slack-secret-part";
const SMTP_PASSWORD = 'smtp-pa"ss\\word';

interface Req {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
let dir: string;
let http: Server;
let smtp: TcpServer;
let httpPort = 0;
let smtpPort = 0;
let fail = false;
const requests: Req[] = [];
const mails: { auth: string; data: string }[] = [];

function run(shell: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(shell[0], [...shell.slice(1), SCRIPT], {
      env: { PATH: process.env.PATH!, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/** A minimal SMTP server: EHLO with AUTH, MAIL, RCPT, DATA, QUIT; records AUTH PLAIN and the message. */
function startSmtp(): Promise<void> {
  smtp = createTcpServer((sock) => {
    let buf = "";
    let inData = false;
    let inAuth = false;
    let mail = { auth: "", data: "" };
    sock.write("220 localhost ESMTP test\r\n");
    sock.on("data", (d) => {
      buf += d.toString("utf8");
      let i: number;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            mails.push(mail);
            mail = { auth: "", data: "" };
            sock.write("250 OK\r\n");
          } else mail.data += line + "\n";
          continue;
        }
        if (inAuth) {
          inAuth = false;
          mail.auth = Buffer.from(line, "base64").toString("utf8");
          sock.write("235 OK\r\n");
          continue;
        }
        const cmd = line.split(" ")[0].toUpperCase();
        if (cmd === "EHLO") sock.write("250-localhost\r\n250 AUTH PLAIN\r\n");
        else if (cmd === "AUTH" && line.split(" ").length > 2) {
          mail.auth = Buffer.from(line.split(" ")[2], "base64").toString("utf8");
          sock.write("235 OK\r\n");
        } else if (cmd === "AUTH") {
          // No initial response (curl's default): ask for it.
          inAuth = true;
          sock.write("334 \r\n");
        } else if (cmd === "DATA") {
          inData = true;
          sock.write("354 go\r\n");
        } else if (cmd === "QUIT") {
          sock.end("221 bye\r\n");
        } else sock.write("250 OK\r\n");
      }
    });
  });
  return new Promise((r) =>
    smtp.listen(0, "127.0.0.1", () => ((smtpPort = (smtp.address() as { port: number }).port), r())),
  );
}

function envFor(name: string): Record<string, string> {
  return {
    ARRIVALS_DIR: path.join(dir, "data", "homelab-backups"),
    ARRIVALS_MAX_AGE_MINUTES: "60",
    ARRIVALS_REPEAT_MINUTES: "1440",
    ARRIVALS_STATE: path.join(dir, `${name}.state`),
    ARRIVALS_HUB: "backup-pi",
    ARRIVALS_NTFY_URL: `http://127.0.0.1:${httpPort}/homelab-backups`,
    ARRIVALS_NTFY_TOKEN: TOKEN,
    ARRIVALS_SLACK_WEBHOOK_URL: `http://127.0.0.1:${httpPort}${SLACK_PATH}`,
    ARRIVALS_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    ARRIVALS_SMTP_FROM: "pi@example.org",
    ARRIVALS_SMTP_TO: "ops@example.org",
    ARRIVALS_SMTP_PASSWORD: SMTP_PASSWORD,
    ARRIVALS_SMTP_TLS: "off",
    CURL: path.join(dir, "curl-logging"),
    TMPDIR: dir,
  };
}

const old = (p: string) => {
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, "x");
  const t = Date.now() / 1000 - 3 * 3600;
  utimesSync(p, t, t);
};
const fresh = (p: string) => {
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, "x");
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "arrivals-"));
  const data = path.join(dir, "data", "homelab-backups");
  old(path.join(data, "postgres-backups", "wiki", "wiki-1.sql.zst", "xl.meta"));
  // Written recently, but not backups: the server's own folder and a staging upload.
  fresh(path.join(dir, "data", "homelab-backups", ".minio.sys", "tmp", "x"));
  fresh(path.join(data, "postgres-backups", ".partial", "wiki-2.sql.zst", "xl.meta"));
  // A curl that records its command line, then runs the real curl.
  writeFileSync(
    path.join(dir, "curl-logging"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> "${path.join(dir, "curl-args.log")}"\nexec curl "$@"\n`,
  );
  chmodSync(path.join(dir, "curl-logging"), 0o755);
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(fail ? 500 : 200).end("{}");
    });
  });
  await new Promise<void>((r) =>
    http.listen(0, "127.0.0.1", () => ((httpPort = (http.address() as { port: number }).port), r())),
  );
  await startSmtp();
});

afterAll(async () => {
  await new Promise((r) => http?.close(r));
  await new Promise((r) => smtp?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe.each([[["busybox", "sh"]], [["dash"]]])("hub-arrivals.sh under %s", (shell) => {
  const name = shell.join("-");
  it("reports silence once on every channel, stays quiet within the repeat interval, then reports the recovery", async () => {
    requests.length = 0;
    mails.length = 0;
    const env = envFor(name);
    const first = await run(shell, env);
    expect(first.code, first.stderr).toBe(0);
    expect(requests.map((r) => r.path).sort()).toEqual(["/homelab-backups", SLACK_PATH].sort());
    const ntfy = requests.find((r) => r.path === "/homelab-backups")!;
    expect(ntfy.headers.title).toBe("Backup hub backup-pi: no new backups for 60 minutes");
    expect(ntfy.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(ntfy.body).toMatch(/^No object arrived in .* for 60 minutes/);
    const slack = JSON.parse(requests.find((r) => r.path === SLACK_PATH)!.body);
    expect(slack.text).toMatch(/^\*Backup hub backup-pi: no new backups for 60 minutes\*\nNo object arrived/);
    expect(mails).toHaveLength(1);
    expect(mails[0].auth).toBe(`\0pi@example.org\0${SMTP_PASSWORD}`);
    expect(mails[0].data).toContain("Subject: Backup hub backup-pi: no new backups for 60 minutes");
    expect(readFileSync(env.ARRIVALS_STATE, "utf8")).toMatch(/^stale \d+\n$/);

    const second = await run(shell, env);
    expect(second.code, second.stderr).toBe(0);
    expect(requests).toHaveLength(2);

    fresh(path.join(dir, "data", "homelab-backups", "velero", "backups", `b-${name}`, "xl.meta"));
    const third = await run(shell, env);
    expect(third.code, third.stderr).toBe(0);
    expect(requests).toHaveLength(4);
    expect(requests[2].headers.title ?? requests[3].headers.title).toBe("Backup hub backup-pi: backups arriving again");
    expect(readFileSync(env.ARRIVALS_STATE, "utf8")).toMatch(/^ok \d+\n$/);
    rmSync(path.join(dir, "data", "homelab-backups", "velero"), { recursive: true, force: true });
  });

  it("fails and keeps no state when a channel refuses the message, so the next run retries", async () => {
    const env = { ...envFor(`${name}-fail`) };
    fail = true;
    const r = await run(shell, env);
    fail = false;
    expect(r.code).not.toBe(0);
    expect(existsSync(env.ARRIVALS_STATE)).toBe(false);
  });

  it("never puts a credential on curl's command line", () => {
    const args = readFileSync(path.join(dir, "curl-args.log"), "utf8");
    expect(args).toMatch(/-K /);
    for (const secret of [TOKEN, "slack-secret-part", 'pa"ss']) expect(args).not.toContain(secret);
  });
});

describe("units", () => {
  it("pass systemd-analyze verify as rendered (the script at a temp lib dir, executable)", async () => {
    const unitDir = path.join(dir, "units");
    const libDir = path.join(dir, "lib");
    mkdirSync(unitDir, { recursive: true });
    mkdirSync(libDir, { recursive: true });
    writeFileSync(path.join(libDir, "hub-arrivals.sh"), readFileSync(SCRIPT));
    chmodSync(path.join(libDir, "hub-arrivals.sh"), 0o755);
    const units = renderArrivalsUnits({ dataDir: "/mnt/backup-hdd/minio", bucket: "homelab-backups" }, libDir);
    expect(units.service).toContain("ReadOnlyPaths=/mnt/backup-hdd/minio/homelab-backups\n");
    writeFileSync(path.join(unitDir, units.serviceName), units.service);
    writeFileSync(path.join(unitDir, units.timerName), units.timer);
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        "systemd-analyze",
        [
          "verify",
          path.join(unitDir, "homelab-backup-arrivals.timer"),
          path.join(unitDir, "homelab-backup-arrivals.service"),
        ],
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` }),
      ),
    );
    // Warnings about the host (no /etc/homelab-backup on the test machine) are not unit errors.
    expect(
      r.out.split("\n").filter((l) => l && !/arrivals\.env|Failed to load environment files/.test(l)),
      r.out,
    ).toEqual([]);
  });
});
