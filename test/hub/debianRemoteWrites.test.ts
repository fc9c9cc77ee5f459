/**
 * The counter-proof of nixosRemoteWrites.test.ts: the same reading of remote commands on the Debian
 * example stack finds writes to /etc/systemd and /usr/local (the server's unit and binary, the
 * off-site units and rclone), so the NixOS check is one that can fail. Also: every download a
 * Debian hub's commands describe names a version and a sha256, and none is from dl.min.io.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { PINNED_RELEASES } from "../../components/hub/releases.js";
import { runProgram, type ProgramRun } from "../../tools/harness.js";
import { exampleStack } from "../support/stackFiles.js";
import { remoteActions } from "../support/remoteActions.js";

let run: ProgramRun;
beforeAll(async () => {
  const stack = exampleStack();
  run = await runProgram(stack.config, stack.secretKeys);
});

describe("Debian hub", () => {
  it("its remote commands and scripts do write /etc/systemd and /usr/local", async () => {
    const { commands } = await remoteActions(run.rec);
    const all = commands.map((c) => [c.text, ...c.scripts.map((s) => s.content)].join("\n")).join("\n");
    expect(all).toContain("/etc/systemd");
    expect(all).toContain("/usr/local");
  });

  it("installs the server alone from its pinned GitHub release assets, each with its sha256; no client, nothing from dl.min.io", async () => {
    const { commands } = await remoteActions(run.rec);
    const install = commands.find((c) => c.text.includes("install-server.sh"))!;
    const r = PINNED_RELEASES.silo;
    expect(install.text).toContain(`HUB_VERSION='${r.version}'`);
    for (const a of Object.values(r.assets)) expect(install.text).toContain(`${a.url} ${a.sha256}`);
    // The bucket and users are configured through the server's APIs: no mcli is downloaded or run.
    expect(commands.map((c) => c.text).join("\n")).not.toMatch(/mcli|pgsty\/mc\/|configure-bucket/);
    for (const c of commands) {
      expect(c.text).not.toContain("dl.min.io");
      for (const s of c.scripts) expect(s.content).not.toContain("dl.min.io");
    }
  });
});
