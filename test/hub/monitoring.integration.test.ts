/**
 * The hub's monitoring: the ScrapeConfig objects validated against prometheus-operator's CRD (a
 * wrong field is shown to fail), the targets per server (RustFS has no Prometheus endpoint), and
 * install-node-exporter.sh's settings edit run for real on a copy of the Debian package's defaults file.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEBIAN_TEXTFILE_DIR, hubScrapeTargets, scrapeConfigObject } from "../../components/hub/pi/monitoring.js";
import { validateCustomResource } from "../support/crds.js";

const SCRIPT = path.resolve(__dirname, "..", "..", "components", "hub", "pi", "install-node-exporter.sh");
const hub = { host: "backup-pi.lan", port: 9000, tls: false, server: "silo" as const, monitoring: true };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hub-monitoring-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("what the cluster's Prometheus scrapes on the hub", () => {
  it("Silo: node exporter and Silo's cluster and bucket metrics", () => {
    expect(hubScrapeTargets(hub).map((t) => [t.name, t.target, t.metricsPath, t.scheme])).toEqual([
      ["homelab-backup-hub-node", "backup-pi.lan:9100", "/metrics", "HTTP"],
      ["homelab-backup-hub-silo", "backup-pi.lan:9000", "/minio/v2/metrics/cluster", "HTTP"],
      ["homelab-backup-hub-silo-bucket", "backup-pi.lan:9000", "/minio/v2/metrics/bucket", "HTTP"],
    ]);
    expect(hubScrapeTargets({ ...hub, tls: true, host: "fd00::5" }).map((t) => `${t.scheme} ${t.target}`)).toEqual([
      "HTTP [fd00::5]:9100",
      "HTTPS [fd00::5]:9000",
      "HTTPS [fd00::5]:9000",
    ]);
  });

  it("RustFS: node exporter only (RustFS has no Prometheus endpoint); monitoring off: nothing", () => {
    expect(hubScrapeTargets({ ...hub, server: "rustfs" }).map((t) => t.name)).toEqual(["homelab-backup-hub-node"]);
    expect(hubScrapeTargets({ ...hub, monitoring: false })).toEqual([]);
  });

  it("each ScrapeConfig is valid against the prometheus-operator CRD; a wrong field is not", () => {
    for (const t of hubScrapeTargets({ ...hub, tls: true })) {
      const obj = scrapeConfigObject(t, "monitoring", { release: "kube-prometheus-stack" });
      expect(validateCustomResource(obj), t.name).toEqual([]);
      expect((obj.metadata as any).labels.release).toBe("kube-prometheus-stack");
    }
    const bad = scrapeConfigObject(hubScrapeTargets(hub)[0], "monitoring", {}) as any;
    expect(validateCustomResource({ ...bad, spec: { ...bad.spec, scheme: "FTP" } }).length).toBeGreaterThan(0);
    expect(
      validateCustomResource({ ...bad, spec: { ...bad.spec, staticConfig: bad.spec.staticConfigs } }).length,
    ).toBeGreaterThan(0);
  }, 120_000);
});

describe("install-node-exporter.sh: the package's ARGS", () => {
  const DEFAULTS =
    '# Set the command-line arguments to pass to the server.\n# Due to shell scaping, to pass backslashes for regexes, you need to double\nARGS=""\n';

  async function setArgs(file: string, textfileDir: string) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        "bash",
        ["-c", 'source "$1"; set_args "$2" "$(args_for "$3")"', "x", SCRIPT, file, textfileDir],
        { timeout: 20_000 },
        (err: any, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
      ),
    );
  }

  it("leaves the package's defaults alone for the package's own textfile directory", async () => {
    const file = path.join(dir, "default-dir");
    writeFileSync(file, DEFAULTS);
    const r = await setArgs(file, DEBIAN_TEXTFILE_DIR);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(file, "utf8")).toBe(DEFAULTS);
  });

  it("points the textfile collector at another directory, once", async () => {
    const file = path.join(dir, "other-dir");
    writeFileSync(file, DEFAULTS);
    const r = await setArgs(file, "/srv/node-textfile");
    expect(r.stdout.trim()).toBe("changed");
    expect(readFileSync(file, "utf8")).toBe(
      DEFAULTS.replace('ARGS=""', 'ARGS="--collector.textfile.directory=/srv/node-textfile"'),
    );
    const again = await setArgs(file, "/srv/node-textfile");
    expect(again.stdout).toBe("");
  });
});
