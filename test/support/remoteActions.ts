/**
 * What a program does on hosts over SSH, read from the recorded resources: every remote Command's
 * create/update/delete text, with the content of each uploaded script that text names (the scripts
 * it runs), and every CopyToRemote upload with its content.
 */
import type { RecordingMocks } from "../../tools/mocks.js";
import { unwrapSecrets } from "../../tools/mocks.js";

export interface RemoteUpload {
  readonly name: string;
  readonly path: string;
  readonly content: string;
}

export interface RemoteCommand {
  readonly name: string;
  /** create, update and delete, joined. */
  readonly text: string;
  /** Uploaded scripts (*.sh) whose name the command mentions. */
  readonly scripts: readonly RemoteUpload[];
}

export async function remoteActions(
  rec: RecordingMocks,
): Promise<{ commands: RemoteCommand[]; uploads: RemoteUpload[] }> {
  const uploads: RemoteUpload[] = [];
  for (const r of rec.byType("command:remote:CopyToRemote")) {
    // Under the mock runtime the deserialized StringAsset holds its text as a Promise.
    uploads.push({
      name: r.name,
      path: String(unwrapSecrets(r.inputs.remotePath)),
      content: String(await r.inputs.source.text),
    });
  }
  const commands = rec.byType("command:remote:Command").map((r) => {
    const text = ["create", "update", "delete"]
      .map((k) => unwrapSecrets(r.inputs[k]))
      .filter((v) => typeof v === "string")
      .join("\n");
    // Scripts it runs: uploaded *.sh files it names (a data file such as the NixOS module is not run).
    const scripts = uploads.filter((u) => u.path.endsWith(".sh") && text.includes(u.path.split("/").pop()!));
    return { name: r.name, text, scripts };
  });
  return { commands, uploads };
}
