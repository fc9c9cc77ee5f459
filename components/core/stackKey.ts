/**
 * How a policy verdict names the stack-file key to change (`velero.schedules[0].ttl`, `hub.tls`).
 *
 * The policy pack runs in a process of its own under the CLI and sees resources only: the analyzer is
 * never given the stack's configuration. The engine sends `ConfigureStack` with the config map
 * (pulumi/pulumi `proto/pulumi/analyzer.proto`, `AnalyzerStackConfigureRequest.config`), but
 * @pulumi/policy 1.21 keeps only its tags (`node_modules/@pulumi/policy/server.js`, `configureStack`:
 * `call.request.getTagsMap()`), and a policy's `getConfig` is the pack's own config, not the stack's.
 * So the key travels with the resources: an object made from one entry of a stack-file list carries
 * that entry's key in the annotation below (an annotation: it changes no URN, and a Kubernetes object
 * takes any annotation), and every other resource's section follows from its logical name
 * (policies/stackKeys.ts). A diagnostic carries only a message, so the key rides at its end as
 * ` (stack key: <key>)`; the offline evaluator and whoever reads the CLI's output split it off the same way.
 */

/** The annotation with the stack-file key of the list entry an object was made from (`longhorn.recurringJobs[2]`). */
export const STACK_KEY_ANNOTATION = "homelab-backup.io/stack-key";

const SUFFIX = /\s\(stack key: ([^\s()]+)\)$/;

/** A verdict's message with its stack key appended. */
export function withStackKey(message: string, key: string): string {
  return `${message} (stack key: ${key})`;
}

/** The stack key at the end of a message (undefined when none), and the message without it. */
export function splitStackKey(message: string): { message: string; key?: string } {
  const m = SUFFIX.exec(message);
  return m ? { message: message.slice(0, m.index), key: m[1] } : { message };
}
