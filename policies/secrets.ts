/** Policy 8: no plaintext secrets. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isObj } from "./support.js";
import { Obj } from "./support.js";
import { containersOf } from "./support.js";
import { objs } from "./support.js";
import { str } from "./support.js";
import { secretKeysOf } from "./support.js";
import { podSpecOf } from "./support.js";
import { k8sLabel } from "./support.js";
import { remoteSourceText } from "./iam.js";

/**
 * Whether a variable or key name holds a secret. Identifiers and references are not secrets:
 * `*_KEY_ID` (an access key id), `*_FILE`/`*_PATH`/`*_DIR` (where a secret lives), `*_NAME`/`*_REF`
 * and Helm's `existingSecret` (which Secret to read).
 * "KEY" is a secret only when qualified as one (ACCESS_KEY, API_KEY, ENCRYPTION_KEY...): a bare
 * `key`, OBJECT_KEY or KEY_PREFIX name S3 object keys.
 */
export function looksLikeSecretName(name: string): boolean {
  const n = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_");
  if (
    /(_ID|ID_|FILE|PATH|DIR|_NAME|_REF|_URL|_URI|_ARN|_TYPE|_LENGTH|_ALGORITHM|_VERSION)$/.test(n) ||
    /^EXISTING_/.test(n)
  )
    return false;
  if (/PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE/.test(n)) return true;
  return /(^|_)(ACCESS|API|ENCRYPTION|CRYPT|SSH|AUTH|MASTER|SIGNING|SESSION|LICENSE)_?KEY(S)?($|_)|APIKEY/.test(n);
}

/** A value that only points at a secret (empty, a path, a `$VAR`/`$(VAR)` expansion, a template, a mask). */
export function isReferenceValue(value: string): boolean {
  const v = value.trim().replace(/^["']|["']$/g, "");
  return (
    v === "" || v === "[secret]" || /^[$%/~<]|^\{\{|^\.\.?\//.test(v) || /^(true|false|null|none|yes|no)$/i.test(v)
  );
}

/**
 * Why a text looks like it carries a secret in plain text, or undefined. Assignments count
 * (`NAME=value` anywhere in a line, as in env files, shell and ini), and so do `name: value` pairs
 * when they are structured (a quoted JSON key, or a YAML key at the start of a line), so that prose
 * such as "same pass: collect ..." does not. Comment lines are prose.
 */
export function secretInText(text: string): string | undefined {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return "a PEM private key";
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|\/\/|;)/.test(line)) continue;
    const pairs = [
      ...line.matchAll(/(?:^|[\s;"'{,=])([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(["']?)([^\s"',;}=]*)/g),
      ...line.matchAll(/"([A-Za-z_][A-Za-z0-9_.-]*)"\s*:\s*(")([^"]*)"/g),
      ...line.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_.-]*):\s+(["']?)([^\s"',;}]*)/g),
    ];
    for (const [, key, , value] of pairs) {
      if (looksLikeSecretName(key) && value !== undefined && !isReferenceValue(value)) return `a value for ${key}`;
    }
  }
  return undefined;
}

/** Secret-looking leaves of Helm values: a secret-named key with a literal value, or a text carrying one. */
export function helmValueSecretProblems(values: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, at: string, key: string, depth: number) => {
    if (depth > 40) return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`, key, depth + 1));
    if (isObj(v)) return Object.entries(v).forEach(([k, x]) => walk(x, `${at}.${k}`, k, depth + 1));
    if (typeof v !== "string") return;
    if (looksLikeSecretName(key) && !isReferenceValue(v)) out.push(`${at} holds a literal secret`);
    else {
      const why = secretInText(v);
      if (why) out.push(`${at} contains ${why}`);
    }
  };
  walk(values, "values", "", 0);
  return out;
}

export function envProblems(pod: Obj): string[] {
  const out: string[] = [];
  for (const { where, c } of containersOf(pod)) {
    for (const e of objs(c.env)) {
      const name = str(e.name) ?? "";
      if (typeof e.value === "string" && looksLikeSecretName(name) && !isReferenceValue(e.value)) {
        out.push(
          `container ${where}: env ${name} has a literal value; put the secret in a Secret (stringData) and use valueFrom.secretKeyRef`,
        );
      }
    }
  }
  return out;
}

export const noPlaintextSecretsPolicy: ResourceValidationPolicy = {
  name: "no-plaintext-secrets",
  description:
    "No secret in plain text: no secret-named env var with a literal value in a workload, Secret data marked as Pulumi secrets, no Pulumi secret in a ConfigMap, Helm values and remote commands carry secrets only in secret inputs.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    const secret = secretKeysOf(args);
    const pod = podSpecOf(args.type, props);
    if (pod) {
      const label = k8sLabel(args.type, props, args.name);
      for (const p of envProblems(pod.spec)) report(`${label}: ${p}`);
      return;
    }
    switch (args.type) {
      case "kubernetes:core/v1:Secret":
      case "kubernetes:core/v1:SecretPatch": {
        const label = k8sLabel(args.type, props, args.name);
        for (const field of ["data", "stringData"]) {
          if (isObj(props[field]) && Object.keys(props[field]).length > 0 && !secret.has(field)) {
            report(
              `${label}: ${field} is not a Pulumi secret, so its values sit in plain text in the state; build it from secret Outputs (pulumi.secret / requireSecret)`,
            );
          }
        }
        return;
      }
      case "kubernetes:core/v1:ConfigMap":
      case "kubernetes:core/v1:ConfigMapPatch": {
        const label = k8sLabel(args.type, props, args.name);
        for (const field of ["data", "binaryData"]) {
          if (secret.has(field))
            report(`${label}: ${field} carries a Pulumi secret; a ConfigMap is readable in plain text, use a Secret`);
          else if (isObj(props[field])) {
            for (const [key, text] of Object.entries(props[field])) {
              const why = typeof text === "string" ? secretInText(text) : undefined;
              if (why) report(`${label}: ${field}.${key} contains ${why} in plain text; use a Secret`);
            }
          }
        }
        return;
      }
      case "kubernetes:helm.sh/v3:Release":
      case "kubernetes:helm.sh/v3:Chart":
      case "kubernetes:helm.sh/v4:Chart": {
        if (secret.has("values")) return;
        for (const p of helmValueSecretProblems(props.values))
          report(`Helm release ${str(props.name) ?? args.name}: ${p} but values is not a Pulumi secret`);
        return;
      }
      case "command:remote:Command":
      case "command:local:Command": {
        if (isObj(props.environment) && !secret.has("environment")) {
          for (const [k, v] of Object.entries(props.environment)) {
            if (typeof v === "string" && looksLikeSecretName(k) && !isReferenceValue(v))
              report(`${args.name}: environment.${k} is not a Pulumi secret; pass it from a secret Output`);
          }
        }
        for (const field of ["stdin", "create", "update", "delete"]) {
          const text = str(props[field]);
          const why = text !== undefined && !secret.has(field) ? secretInText(text) : undefined;
          if (why) report(`${args.name}: ${field} contains ${why} but is not a Pulumi secret`);
        }
        const conn = isObj(props.connection) ? props.connection : {};
        for (const k of ["password", "privateKey", "privateKeyPassword"]) {
          if (typeof conn[k] === "string" && conn[k] !== "" && !secret.has("connection"))
            report(`${args.name}: connection.${k} is not a Pulumi secret; read it with config.requireSecret`);
        }
        return;
      }
      case "command:remote:CopyToRemote": {
        const text = remoteSourceText(props);
        const why = text !== undefined && !secret.has("source") ? secretInText(text) : undefined;
        if (why)
          report(
            `${args.name}: source (${str(props.remotePath) ?? "file"}) contains ${why} but is not a Pulumi secret`,
          );
        const conn = isObj(props.connection) ? props.connection : {};
        for (const k of ["password", "privateKey"]) {
          if (typeof conn[k] === "string" && conn[k] !== "" && !secret.has("connection"))
            report(`${args.name}: connection.${k} is not a Pulumi secret; read it with config.requireSecret`);
        }
        return;
      }
      default:
        args.notApplicable("carries no secret-bearing input");
    }
  },
};
