import { describe, expect, it } from "vitest";
import { asRoot, timerInstallCommands } from "../../components/core/hubHost.js";

describe("hub host commands", () => {
  it("runs as root through sudo unless the SSH user is root", () => {
    expect(asRoot("pi", "echo 'x'")).toBe(`sudo -n sh -c 'echo '\\''x'\\'''`);
    expect(asRoot("root", "true")).toBe("sh -c 'true'");
  });

  const t = {
    stageDir: ".homelab-backup/job",
    libDir: "/usr/local/lib/job",
    scripts: { "a.sh": "/usr/local/lib/job/a.sh", "b.sh": "/usr/local/lib/job/b.sh" },
    unitDir: "/etc/systemd/system",
    serviceName: "job.service",
    timerName: "job.timer",
  };

  it("installs scripts and units before it starts the timer, and lists the timer last", () => {
    const steps = timerInstallCommands({ ...t, extraDirs: ["/var/lib/textfile"] }).install.split(" && ");
    expect(steps).toEqual([
      "install -d -m 0755 /usr/local/lib/job",
      "install -m 0755 .homelab-backup/job/a.sh /usr/local/lib/job/a.sh",
      "install -m 0755 .homelab-backup/job/b.sh /usr/local/lib/job/b.sh",
      "install -m 0644 .homelab-backup/job/job.service /etc/systemd/system/job.service",
      "install -m 0644 .homelab-backup/job/job.timer /etc/systemd/system/job.timer",
      "install -d -m 0755 /var/lib/textfile",
      "systemctl daemon-reload",
      "systemctl enable --now job.timer",
      "systemctl list-timers --no-pager job.timer",
    ]);
  });

  it("stops the timer before removing, and removes the scripts or the whole lib directory", () => {
    expect(timerInstallCommands(t).remove.split("; ")).toEqual([
      "systemctl disable --now job.timer || true",
      "rm -f /etc/systemd/system/job.service /etc/systemd/system/job.timer /usr/local/lib/job/a.sh /usr/local/lib/job/b.sh",
      "systemctl daemon-reload",
    ]);
    expect(timerInstallCommands({ ...t, removeLibDir: true }).remove.split("; ")).toEqual([
      "systemctl disable --now job.timer || true",
      "rm -f /etc/systemd/system/job.service /etc/systemd/system/job.timer",
      "rm -rf /usr/local/lib/job",
      "systemctl daemon-reload",
    ]);
  });
});
