/**
 * What keeps the off-site copy's resources the same resources in the engine, whichever component builds
 * them. OffsiteHubTimer and OffsiteCronJob were one component, `homelab-backup:index:OffsiteSync`, which
 * is what stacks deployed before the split have; and a stack may move from one to the other (`runOn`).
 * Each names the other two types as aliases, so the engine finds the component under its old URN and every
 * child under the old component's URN (README.md, "Resource URNs and aliases"; test/program/urns.test.ts).
 * Above all the generated crypt key stays the same resource: a new key would leave the copy that is already
 * on the FTP server unreadable.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { OffsiteConfig } from "../config.js";

/** The type tokens of the off-site copy's components, the retired one included. */
export const OFFSITE_TYPES = {
  /** Both variants in one component, before the split. */
  sync: "homelab-backup:index:OffsiteSync",
  hubTimer: "homelab-backup:index:OffsiteHubTimer",
  cronJob: "homelab-backup:index:OffsiteCronJob",
} as const;

/** A component's options with an alias for each of the other off-site types. */
export function offsiteComponentOptions(
  own: (typeof OFFSITE_TYPES)[keyof typeof OFFSITE_TYPES],
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.ComponentResourceOptions {
  const others = Object.values(OFFSITE_TYPES)
    .filter((t) => t !== own)
    .map((type) => ({ type }));
  return { ...opts, aliases: [...(opts?.aliases ?? []), ...others] };
}

/**
 * The crypt key as a secret: the given one, or `<name>-key` (32 random bytes, hex) under `parent`, made the
 * same way by both components. Undefined when encryption is off.
 */
export function offsiteEncryptionKey(
  name: string,
  config: OffsiteConfig,
  given: pulumi.Input<string> | undefined,
  parent: pulumi.Resource,
): pulumi.Output<string> | undefined {
  if (!config.encryption.enabled) return undefined;
  if (given) return pulumi.secret(pulumi.output(given));
  const bytes = new random.RandomBytes(
    `${name}-key`,
    { length: 32 },
    { parent, additionalSecretOutputs: ["hex", "base64"] },
  );
  return pulumi.secret(bytes.hex);
}
