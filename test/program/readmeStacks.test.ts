/**
 * Every stack file the README shows (each ```yaml block) renders through the offline render with no
 * mandatory policy violation. A README stack shows the non-secret keys only: the secret keys its hub
 * kind requires are set with `pulumi config set --secret` (README "Writing a stack file"), so the test
 * adds stand-ins for exactly those. A block that is not a whole stack file (no top-level `config:`)
 * fails here: complete it, so every stack the README shows is one that renders.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { readStackFile, render } from "../../tools/render.js";
import { REPO } from "../support/stackFiles.js";

/** The ```yaml blocks of a markdown text, with the line each starts on. */
export function yamlBlocks(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```yaml") continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && lines[j].trim() !== "```") j++;
    out.push({ line: start + 1, text: lines.slice(start, j).join("\n") });
    i = j;
  }
  return out;
}

/** The secret keys a stack needs that a README stack leaves to `pulumi config set --secret`. */
function requiredSecrets(config: Record<string, any>): Record<string, string> {
  const hub = config["homelab-backup:hub"] ?? {};
  return {
    ...(hub.kind === "pi" ? { "homelab-backup:hubSshPrivateKey": "readme-ssh-key" } : {}),
    ...(hub.kind === "s3" && (hub.manage ?? "admin") === "admin"
      ? { "homelab-backup:hubAdminPassword": "readme-admin-secret-key" }
      : {}),
    ...(config["homelab-backup:offsite"] ? { "homelab-backup:offsiteFtpPassword": "readme-ftp-password" } : {}),
    ...(config["homelab-backup:ftpBridge"] ? { "homelab-backup:ftpBridgePassword": "readme-bridge-password" } : {}),
  };
}

const README = readFileSync(path.join(REPO, "README.md"), "utf8");
const BLOCKS = yamlBlocks(README);

describe("the stacks the README shows", () => {
  it("finds every yaml block of the README (the pi and s3 hub examples at least)", () => {
    expect(yamlBlocks("a\n```yaml\nconfig: {}\n```\n```sh\nx\n```\n```yaml\nb: 1\n```\n")).toEqual([
      { line: 3, text: "config: {}" },
      { line: 9, text: "b: 1" },
    ]);
    expect(BLOCKS.length).toBeGreaterThanOrEqual(2);
  });

  for (const block of BLOCKS) {
    it(`README.md line ${block.line}: a whole stack file that renders with no mandatory violation`, async () => {
      const doc = YAML.parse(block.text);
      expect(doc?.config, "a stack file has a top-level config mapping").toBeTypeOf("object");
      const file = path.join(mkdtempSync(path.join(tmpdir(), "readme-stack-")), "Pulumi.readme.yaml");
      writeFileSync(file, YAML.stringify({ config: { ...requiredSecrets(doc.config), ...doc.config } }));
      const result = await render(readStackFile(file));
      expect(result.verdicts.filter((v) => v.level === "mandatory")).toEqual([]);
      expect(result.plan).toMatch(/Policies run \(\d+\): `longhorn-retain-exceeds-full-backup-interval`/);
    }, 120_000);
  }
});
