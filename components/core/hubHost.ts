/**
 * Installing files and systemd timers on a Debian hub over SSH, shared by every job that runs there
 * (the off-site copy, the arrivals check): stage the files in a directory only the SSH user can read,
 * then install them as root in one command, so a half-copied set never becomes a running unit.
 */
import * as path from "node:path";
import * as command from "@pulumi/command";
import type * as types from "@pulumi/command/types";
import * as pulumi from "@pulumi/pulumi";
import { contentHash, shellQuote } from "./files.js";

/** `cmd` run as root on the hub: directly when the SSH user is root, else through non-interactive sudo. */
export function asRoot(sshUser: string | undefined, cmd: string): string {
  return sshUser === "root" ? `sh -c ${shellQuote(cmd)}` : `sudo -n sh -c ${shellQuote(cmd)}`;
}

/**
 * Options for a hub command whose `delete` removes what its `create` writes, at the same paths: the
 * rclone config, the arrivals EnvironmentFile, the installed units and scripts of a timer job.
 *
 * pulumi-command replaces a remote Command when its `triggers` or `connection` change (the provider
 * marks both replaceOnChanges; see `triggers` in node_modules/@pulumi/command/remote/command.d.ts),
 * and the engine's default replacement creates the new resource first and deletes the old one at the
 * end of the update: the old `delete` then removes the files the new `create` has just written, and
 * `pulumi up` reports success with the timer disabled or the config gone. `deleteBeforeReplace` "indicates
 * that this resource should be deleted before its replacement is created when replacement is
 * necessary" (CustomResourceOptions in node_modules/@pulumi/pulumi/resource.d.ts), so the old delete
 * runs first and the new create last. test/hub/replaceOrder.integration.test.ts plays both orders
 * against a real SSH server.
 *
 * On failure: a failing old delete stops the update before the new create, with the old state kept
 * and retried; the old delete runs over the OLD connection, so after an SSH port or key change the
 * old port and key must still work during that `pulumi up`. A failing new create stops the update
 * with the path absent, never half-written (the config and the EnvironmentFile are written to a temp
 * file and renamed; units and scripts are installed before the timer is enabled), and the next
 * `pulumi up` runs the create again: every create here is idempotent (install and `mv -f` overwrite,
 * enabling an enabled timer changes nothing), and every byte comes from the stack's config and
 * secrets, so nothing is lost that the next run cannot write. Commands without a `delete` (staging,
 * uploads, the rclone install) keep the default order: nothing of theirs is removed.
 */
export function sameFilesOnReplace(opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
  return { ...opts, deleteBeforeReplace: true };
}

/**
 * `<name>-stage` (the staging directory, 0700, under the SSH user's home) and one `<name>-copy-<file>`
 * per file, each replaced when its content changes. Returns the copies, for what installs them to wait on.
 *
 * `files` are named by their path relative to `stageDir`, usually a bare file name; `../<dir>/<file>`
 * stages a file in a sibling directory under the same top directory, so staged scripts keep the layout
 * of components/ (`<top>/offsite/write-config.sh` sources `<top>/core/rclone-remotes.sh`). Every
 * directory is created 0700; the copy's resource name is the file's base name.
 */
export function stageFilesOnHub(
  name: string,
  connection: types.input.remote.ConnectionArgs,
  stageDir: string,
  files: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): command.remote.CopyToRemote[] {
  const parentDir = stageDir.split("/")[0];
  const staged = Object.entries(files).map(([file, text]) => {
    const remotePath = path.posix.join(stageDir, file);
    if (!remotePath.startsWith(`${parentDir}/`) || path.posix.dirname(remotePath) === parentDir)
      throw new Error(`stageFilesOnHub: ${file} is not in a directory under ${parentDir}/`);
    return { resource: `${name}-copy-${path.posix.basename(file).replace(/\./g, "-")}`, remotePath, text };
  });
  const twice = staged.find((f, i) => staged.findIndex((g) => g.resource === f.resource) !== i);
  if (twice) throw new Error(`stageFilesOnHub: two files would be ${twice.resource}`);
  const dirs = [...new Set([stageDir, ...staged.map((f) => path.posix.dirname(f.remotePath))])].join(" ");
  const stage = new command.remote.Command(
    `${name}-stage`,
    { connection, create: `mkdir -p ${dirs} && chmod 0700 ${parentDir} ${dirs}` },
    opts,
  );
  return staged.map(
    ({ resource, remotePath, text }) =>
      new command.remote.CopyToRemote(
        resource,
        {
          connection,
          source: new pulumi.asset.StringAsset(text),
          remotePath,
          triggers: [contentHash(text)],
        },
        { parent: opts.parent, dependsOn: [stage] },
      ),
  );
}

/** What a staged timer job needs installed, and where. */
export interface TimerInstall {
  /** The staging directory the files were copied to. */
  readonly stageDir: string;
  /** The directory the scripts are installed into (0755). */
  readonly libDir: string;
  /** Staged file name → installed path, each installed 0755. */
  readonly scripts: Record<string, string>;
  /** The systemd unit directory. */
  readonly unitDir: string;
  readonly serviceName: string;
  readonly timerName: string;
  /** More directories the service needs (0755), created before the timer starts. */
  readonly extraDirs?: string[];
  /** Remove the whole libDir on delete (it holds nothing but these scripts). */
  readonly removeLibDir?: boolean;
}

/**
 * `<name>-units`: installs the staged files as root and starts the timer (stops and removes them on
 * delete), replaced whenever a staged file changes, the old one removed before the new one is
 * installed (sameFilesOnReplace: both write the same unit and script paths).
 */
export function installTimerOnHub(
  name: string,
  args: {
    readonly connection: types.input.remote.ConnectionArgs;
    readonly sshUser: string | undefined;
    readonly timer: TimerInstall;
    /** The staged files (name → content), as given to stageFilesOnHub. */
    readonly files: Record<string, string>;
    /** Whether the previous run's output is in the command's environment (pulumi-command's default: true). */
    readonly addPreviousOutputInEnv?: boolean;
  },
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  const { install, remove } = timerInstallCommands(args.timer);
  return new command.remote.Command(
    `${name}-units`,
    {
      connection: args.connection,
      create: asRoot(args.sshUser, install),
      delete: asRoot(args.sshUser, remove),
      triggers: [contentHash(...Object.values(args.files))],
      ...(args.addPreviousOutputInEnv === undefined ? {} : { addPreviousOutputInEnv: args.addPreviousOutputInEnv }),
    },
    sameFilesOnReplace(opts),
  );
}

/**
 * The root commands that install the staged scripts and units and start the timer, and that stop and
 * remove them again. The install ends by listing the timer, so its next elapse is in the command output:
 * a timer that never fires is the failure this project replaces.
 */
export function timerInstallCommands(t: TimerInstall): { install: string; remove: string } {
  const install = [
    `install -d -m 0755 ${t.libDir}`,
    ...Object.entries(t.scripts).map(([file, dest]) => `install -m 0755 ${t.stageDir}/${file} ${dest}`),
    `install -m 0644 ${t.stageDir}/${t.serviceName} ${t.unitDir}/${t.serviceName}`,
    `install -m 0644 ${t.stageDir}/${t.timerName} ${t.unitDir}/${t.timerName}`,
    ...(t.extraDirs ?? []).map((d) => `install -d -m 0755 ${d}`),
    "systemctl daemon-reload",
    `systemctl enable --now ${t.timerName}`,
    `systemctl list-timers --no-pager ${t.timerName}`,
  ].join(" && ");
  const remove = [
    `systemctl disable --now ${t.timerName} || true`,
    t.removeLibDir
      ? `rm -f ${t.unitDir}/${t.serviceName} ${t.unitDir}/${t.timerName}`
      : `rm -f ${t.unitDir}/${t.serviceName} ${t.unitDir}/${t.timerName} ${Object.values(t.scripts).join(" ")}`,
    ...(t.removeLibDir ? [`rm -rf ${t.libDir}`] : []),
    "systemctl daemon-reload",
  ].join("; ");
  return { install, remove };
}
