/**
 * Notifications: the AlertmanagerConfig of every receiver combination is valid against the
 * prometheus-operator CRD, holds only Secret references, routes only this stack's alerts, sends the
 * heartbeat nowhere else; the ntfy templates run in Go's text/template exactly as ntfy runs them
 * (binwiederhier/ntfy server/server.go replaceTemplate: JSON body decoded into `any`, disallowed
 * `call|template|define`), over an Alertmanager webhook body.
 */
import { execFile } from "node:child_process";

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  alertmanagerConfigSpec,
  NOTIFY_SECRET_KEYS,
  NTFY_MESSAGE_TEMPLATE,
  NTFY_TITLE_TEMPLATE,
  ntfyWebhookUrl,
  receiverNames,
  routableLabels,
} from "../../components/alerts/notify.js";
import { validateCustomResource } from "../support/crds.js";

const notify = {
  ntfy: { url: "https://ntfy.example.org/", topic: "homelab-backups" },
  slack: { channel: "#k3s-alerts" },
  email: { to: "ops+k3s-alerts@example.org", from: "alertmanager@example.org", smarthost: "smtp.example.org:587" },
};

function amc(spec: Record<string, unknown>) {
  return {
    apiVersion: "monitoring.coreos.com/v1alpha1",
    kind: "AlertmanagerConfig",
    metadata: { name: "homelab-backup", namespace: "monitoring" },
    spec,
  };
}

describe("AlertmanagerConfig", () => {
  const combos: [string, Parameters<typeof alertmanagerConfigSpec>[0]][] = [
    ["ntfy with token", { notify: { ntfy: notify.ntfy }, ntfyToken: true, secretName: "hb-notify" }],
    ["ntfy anonymous", { notify: { ntfy: notify.ntfy }, ntfyToken: false, secretName: "hb-notify" }],
    ["slack", { notify: { slack: notify.slack }, ntfyToken: false, secretName: "hb-notify" }],
    ["email", { notify: { email: notify.email }, ntfyToken: false, secretName: "hb-notify" }],
    [
      "all three + heartbeat",
      { notify, heartbeat: { repeatInterval: "5m" }, ntfyToken: true, secretName: "hb-notify" },
    ],
    ["heartbeat only", { heartbeat: { repeatInterval: "5m" }, ntfyToken: false, secretName: "hb-notify" }],
  ];
  for (const [name, args] of combos) {
    it(`${name}: valid against the CRD, each receiver reached`, () => {
      const spec = alertmanagerConfigSpec(args);
      expect(validateCustomResource(amc(spec))).toEqual([]);
      const route = spec.route as { receiver: string; matchers: unknown[]; routes: { receiver: string }[] };
      expect(route.matchers).toEqual([{ name: "homelab_backup", value: "true", matchType: "=" }]);
      expect(route.routes.map((r) => r.receiver)).toEqual(receiverNames(args));
    });
  }

  it("a broken receiver fails the CRD check (the check is real)", () => {
    const spec = alertmanagerConfigSpec(combos[4][1]) as { receivers: Record<string, unknown>[] };
    const bad = {
      ...spec,
      receivers: spec.receivers.map((r) =>
        r.name === "slack"
          ? { ...r, slackConfigs: [{ apiURL: "https://hooks.slack.com/services/T000/B000/XXXX" }] }
          : r,
      ),
    };
    expect(validateCustomResource(amc(bad)).join("\n")).toMatch(/apiURL/);
  });

  it("holds Secret references only: every credential is a {name, key} of the notify Secret", () => {
    const spec = alertmanagerConfigSpec(combos[4][1]);
    const text = JSON.stringify(spec);
    expect(text).not.toMatch(/https?:\/\//);
    const refs = [...text.matchAll(/\{"name":"hb-notify","key":"([a-z-]+)"\}/g)].map((m) => m[1]).sort();
    expect(refs).toEqual(
      [
        NOTIFY_SECRET_KEYS.heartbeatUrl,
        NOTIFY_SECRET_KEYS.ntfyToken,
        NOTIFY_SECRET_KEYS.ntfyUrl,
        NOTIFY_SECRET_KEYS.slackWebhookUrl,
        NOTIFY_SECRET_KEYS.smtpPassword,
      ].sort(),
    );
  });

  it("the heartbeat goes to the heartbeat URL only and is repeated", () => {
    const spec = alertmanagerConfigSpec(combos[4][1]) as { route: { routes: Record<string, unknown>[] } };
    expect(spec.route.routes[0]).toMatchObject({
      receiver: "heartbeat",
      continue: false,
      repeatInterval: "5m",
      matchers: [{ name: "alertname", value: "BackupAlertingHeartbeat" }],
    });
    expect(spec.route.routes.slice(1).every((r) => r.continue === true)).toBe(true);
  });

  it("rules become routable: namespace = the AlertmanagerConfig's; no template (backup_namespace is each rule's own, test/alerts/routing.integration.test.ts)", () => {
    expect(routableLabels("monitoring")).toEqual({ namespace: "monitoring", homelab_backup: "true" });
  });
});

/** Debian 12's golang-1.19-go (what .ci/run installs) is not on PATH; elsewhere `go` is. */
const GO = existsSync("/usr/lib/go-1.19/bin/go") ? "/usr/lib/go-1.19/bin/go" : "go";

/** Runs Go's text/template the way ntfy's replaceTemplate does. */
function runGoTemplate(tpl: string, body: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "ntfytpl-"));
  const prog = `package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"text/template"
)

// Same checks and steps as binwiederhier/ntfy server/server.go replaceTemplate.
var templateDisallowedRegex = regexp.MustCompile(\`(?m)\\{\\{-?\\s*(call|template|define)\\b\`)

func main() {
	tpl, _ := os.ReadFile(os.Args[1])
	source, _ := os.ReadFile(os.Args[2])
	if templateDisallowedRegex.Match(tpl) {
		fmt.Print("DISALLOWED")
		os.Exit(2)
	}
	var data any
	if err := json.Unmarshal(bytes.TrimSpace(source), &data); err != nil {
		os.Exit(3)
	}
	t, err := template.New("").Parse(string(tpl))
	if err != nil {
		fmt.Print(err)
		os.Exit(4)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		fmt.Print(err)
		os.Exit(5)
	}
	fmt.Print(buf.String())
}
`;
  writeFileSync(path.join(dir, "main.go"), prog);
  writeFileSync(path.join(dir, "tpl"), tpl);
  writeFileSync(path.join(dir, "body.json"), body);
  return new Promise((resolve) => {
    execFile(
      GO,
      ["run", path.join(dir, "main.go"), path.join(dir, "tpl"), path.join(dir, "body.json")],
      { env: { ...process.env, GOFLAGS: "-mod=mod", GO111MODULE: "off", GOCACHE: path.join(dir, "cache") } },
      (err, stdout) => {
        rmSync(dir, { recursive: true, force: true });
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout });
      },
    );
  });
}

/** An Alertmanager webhook body (prometheus/alertmanager notify/webhook Message, version "4"). */
const body = JSON.stringify({
  receiver: "monitoring/homelab-backup/ntfy",
  status: "firing",
  alerts: [
    {
      status: "firing",
      labels: { alertname: "BackupRestorePointStale", class: "postgres", item: "wiki", severity: "critical" },
      annotations: {
        summary: "PostgreSQL dump `wiki`: newest restore point at the destination is stale",
        description: "Nothing newer landed.",
      },
      startsAt: "2026-12-01T05:00:00Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus/graph",
      fingerprint: "0123456789abcdef",
    },
  ],
  groupLabels: { alertname: "BackupRestorePointStale" },
  commonLabels: { alertname: "BackupRestorePointStale", class: "postgres", item: "wiki", severity: "critical" },
  commonAnnotations: {},
  externalURL: "http://alertmanager",
  version: "4",
  groupKey: '{}:{alertname="BackupRestorePointStale"}',
  truncatedAlerts: 0,
});

describe("ntfy templates", () => {
  it("the webhook URL carries the topic and turns templating on", () => {
    const u = new URL(ntfyWebhookUrl(notify.ntfy.url, notify.ntfy.topic));
    expect(u.origin + u.pathname).toBe("https://ntfy.example.org/homelab-backups");
    expect(u.searchParams.get("template")).toBe("yes");
    expect(u.searchParams.get("title")).toBe(NTFY_TITLE_TEMPLATE);
    expect(u.searchParams.get("message")).toBe(NTFY_MESSAGE_TEMPLATE);
  });

  it("render an Alertmanager webhook body in Go's text/template as ntfy does", async () => {
    const title = await runGoTemplate(NTFY_TITLE_TEMPLATE, body);
    expect(title).toEqual({ code: 0, out: "Backup alert: BackupRestorePointStale" });
    const message = await runGoTemplate(NTFY_MESSAGE_TEMPLATE, body);
    expect(message.code).toBe(0);
    // ntfy turns the literal \n of the message parameter into newlines (server.go parsePublishParams).
    expect(message.out.replaceAll("\\n", "\n")).toBe(
      "[firing] PostgreSQL dump `wiki`: newest restore point at the destination is stale\nNothing newer landed.\n",
    );
    // The harness refuses what ntfy refuses.
    expect(await runGoTemplate('{{template "x"}}', body)).toMatchObject({ out: "DISALLOWED" });
  });
});
