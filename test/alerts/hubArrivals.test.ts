/**
 * The Pi hub's arrivals check wired into a Debian Pi hub, through the whole program (index.ts under
 * the mock runtime): with alerts.notify (ntfy with a token, Slack, e-mail) the script and both units
 * are uploaded and installed where the service runs them, the timer enabled; the EnvironmentFile
 * reaches the hub on stdin only, as a Pulumi secret holding every channel's credential, and no
 * command line or upload holds one. Also the pure helpers: the EnvironmentFile format, the SMTP URL,
 * and which stacks run the check.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ARRIVALS_HUB_PATHS,
  arrivalsDir,
  arrivalsOnHub,
  renderArrivalsUnits,
  smtpUrl,
  systemdEnvFile,
} from "../../components/alerts/arrivals.js";
import { readScript } from "../../components/core/files.js";
import { runProgram, type ProgramRun } from "../../tools/harness.js";
import { unwrapSecrets } from "../../tools/mocks.js";
import { renderPlan } from "../../components/plan.js";
import { parseStackConfig } from "../../components/config.js";
import { remoteActions } from "../support/remoteActions.js";
import { exampleStack } from "../support/stackFiles.js";

const TOKEN = "tk_arrivals-ntfy-token";
const SLACK = "https://hooks.slack.com/services/T0/B0/arrivals-slack-secret";
const SMTP = 'smtp-pa"ss$word`x\\y';

const stack = exampleStack();
const alerts = JSON.parse(stack.config["homelab-backup:alerts"]);
alerts.notify = {
  ntfy: { url: "https://ntfy.example.org/", topic: "homelab-backups" },
  slack: { channel: "#backups" },
  email: { to: "ops@example.org", from: "pi@example.org", smarthost: "smtp.example.org:587" },
};
alerts.heartbeat = { hubMaxAgeMinutes: 720 };
const config: Record<string, string> = {
  ...stack.config,
  "homelab-backup:alerts": JSON.stringify(alerts),
  "homelab-backup:alertsNtfyToken": TOKEN,
  "homelab-backup:alertsSlackWebhookUrl": SLACK,
  "homelab-backup:alertsSmtpPassword": SMTP,
  "homelab-backup:alertsHeartbeatUrl": "https://hc.example.org/ping/arrivals-heartbeat-secret",
};
const SECRETS = [
  ...stack.secretKeys,
  "homelab-backup:alertsNtfyToken",
  "homelab-backup:alertsSlackWebhookUrl",
  "homelab-backup:alertsSmtpPassword",
  "homelab-backup:alertsHeartbeatUrl",
];

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(config, SECRETS);
});

const cmd = (name: string) => run.rec.one("command:remote:Command", name);

describe("Debian Pi hub with alerts.notify", () => {
  it("uploads the script and the rendered units, installs them and enables the timer", async () => {
    const { uploads } = await remoteActions(run.rec);
    const mine = uploads.filter((u) => u.name.startsWith("hub-arrivals-"));
    const units = renderArrivalsUnits({ dataDir: "/mnt/backup-hdd/minio", bucket: "homelab-backups" });
    expect(Object.fromEntries(mine.map((u) => [u.path, u.content]))).toEqual({
      ".homelab-backup/arrivals/hub-arrivals.sh": readScript("alerts/hub-arrivals.sh"),
      ".homelab-backup/arrivals/homelab-backup-arrivals.service": units.service,
      ".homelab-backup/arrivals/homelab-backup-arrivals.timer": units.timer,
    });
    expect(units.service).toContain(`ExecStart=${ARRIVALS_HUB_PATHS.script}\n`);
    expect(units.service).toContain(`EnvironmentFile=${ARRIVALS_HUB_PATHS.envFile}\n`);
    expect(units.service).toContain("ReadOnlyPaths=/mnt/backup-hdd/minio/homelab-backups\n");
    const create = String(unwrapSecrets(cmd("hub-arrivals-units").inputs.create));
    expect(create).toMatch(/^sudo -n sh -c '/);
    for (const part of [
      `install -m 0755 .homelab-backup/arrivals/hub-arrivals.sh ${ARRIVALS_HUB_PATHS.script}`,
      "install -m 0644 .homelab-backup/arrivals/homelab-backup-arrivals.service /etc/systemd/system/homelab-backup-arrivals.service",
      "install -m 0644 .homelab-backup/arrivals/homelab-backup-arrivals.timer /etc/systemd/system/homelab-backup-arrivals.timer",
      "systemctl daemon-reload && systemctl enable --now homelab-backup-arrivals.timer",
    ])
      expect(create).toContain(part);
    expect(String(unwrapSecrets(cmd("hub-arrivals-units").inputs.delete))).toContain(
      "systemctl disable --now homelab-backup-arrivals.timer",
    );
  });

  it("writes the EnvironmentFile root-only from stdin, a Pulumi secret holding every ARRIVALS_* setting", async () => {
    const env = cmd("hub-arrivals-env");
    expect(String(env.inputs.create)).toContain(`mv -f "$t" ${ARRIVALS_HUB_PATHS.envFile}`);
    expect(String(env.inputs.create)).toContain("umask 077");
    expect(pulumi.runtime.isRpcSecret(env.inputs.stdin)).toBe(true);
    expect(unwrapSecrets(env.inputs.stdin)).toBe(
      [
        "# Written by homelab-backup; root-only.",
        'ARRIVALS_DIR="/mnt/backup-hdd/minio/homelab-backups"',
        'ARRIVALS_MAX_AGE_MINUTES="720"',
        'ARRIVALS_REPEAT_MINUTES="1440"',
        'ARRIVALS_HUB="backup1.lab.home.arpa"',
        'ARRIVALS_NTFY_URL="https://ntfy.example.org/homelab-backups"',
        `ARRIVALS_NTFY_TOKEN="${TOKEN}"`,
        `ARRIVALS_SLACK_WEBHOOK_URL="${SLACK}"`,
        'ARRIVALS_SMTP_URL="smtp://smtp.example.org:587"',
        'ARRIVALS_SMTP_FROM="pi@example.org"',
        'ARRIVALS_SMTP_TO="ops@example.org"',
        'ARRIVALS_SMTP_USER="pi@example.org"',
        'ARRIVALS_SMTP_PASSWORD="smtp-pa\\"ss\\$word\\`x\\\\y"',
        'ARRIVALS_SMTP_TLS="required"',
        "",
      ].join("\n"),
    );
    // The units command waits for the file; the whole check waits for the hub (the bucket's directory).
    expect(env.parent).toBe("hub-arrivals");
  });

  it("no command line, trigger or upload holds a credential in plain text", async () => {
    const { commands, uploads } = await remoteActions(run.rec);
    for (const secret of [TOKEN, SLACK, "arrivals-slack-secret", "smtp-pa"]) {
      for (const c of commands) expect(c.text, c.name).not.toContain(secret);
      for (const u of uploads) expect(u.content, u.path).not.toContain(secret);
    }
    for (const r of run.rec.byType("command:remote:Command").filter((x) => x.name.startsWith("hub-arrivals"))) {
      for (const [k, v] of Object.entries(r.inputs)) {
        if (k === "stdin" || k === "connection") continue;
        const plain = pulumi.runtime.isRpcSecret(v) ? "" : JSON.stringify(v);
        for (const secret of [TOKEN, "arrivals-slack-secret", "smtp-pa"])
          expect(plain, `${r.name}.${k}`).not.toContain(secret);
      }
    }
  });

  it("plan.md says the hub checks arrivals itself every 15 minutes and reports through the configured channels", () => {
    const plan = renderPlan(parseStackConfig(config), []);
    const start = plan.indexOf("\n## Hub");
    expect(start).toBeGreaterThan(0);
    const hub = plan.slice(start, plan.indexOf("\n## ", start + 1));
    expect(hub).toContain(
      "every 15 minutes the hub itself looks for new objects in `/mnt/backup-hdd/minio/homelab-backups`",
    );
    expect(hub).toContain("none arrived for 720 minutes");
    expect(hub).toContain("ntfy topic `homelab-backups`, Slack #backups, e-mail to ops@example.org");
  });
});

describe("arrivals helpers", () => {
  it("the EnvironmentFile refuses what one line cannot hold", () => {
    expect(() => systemdEnvFile({ ARRIVALS_SMTP_PASSWORD: "a\nb" })).toThrow(/newline/);
    expect(systemdEnvFile({ A: "it's 100% ${x}" })).toContain('A="it\'s 100% \\${x}"');
  });
  it("SMTP: implicit TLS on 465, STARTTLS elsewhere", () => {
    expect(smtpUrl("mail.example.org:465")).toBe("smtps://mail.example.org:465");
    expect(smtpUrl("mail.example.org:587")).toBe("smtp://mail.example.org:587");
  });
  it("runs only on a pi hub with at least one notify channel", () => {
    const hub = { kind: "pi" } as any;
    expect(arrivalsOnHub({ hub, alerts: { notify: { ntfy: { url: "https://n", topic: "t" } } } as any })).toBe(true);
    expect(arrivalsOnHub({ hub, alerts: { notify: {} } as any })).toBe(false);
    expect(arrivalsOnHub({ hub, alerts: {} as any })).toBe(false);
    expect(
      arrivalsOnHub({ hub: { kind: "aws" } as any, alerts: { notify: { slack: { channel: "#a" } } } as any }),
    ).toBe(false);
    expect(arrivalsDir({ dataDir: "/srv/s3/", bucket: "b" })).toBe("/srv/s3/b");
  });
});
