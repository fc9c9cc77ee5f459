/**
 * Everything a render emits, checked by the real upstream rules: built-in Kubernetes objects against
 * Kubernetes' schema (strict), custom resources against their CRDs, every schedule with robfig/cron
 * (the parser of Kubernetes, Velero and Longhorn), Kubernetes' name limits, and the Velero Helm values
 * against the chart's values.schema.json. Works on `resources.json` of `npm run render` (or the
 * recorded inputs of a mock run, secrets unwrapped or masked).
 */
import { hasCrd, validateCustomResource } from "./crds.js";
import { validateHelmValues } from "./helmValues.js";
import { isBuiltIn, validateBuiltIn } from "./k8sSchema.js";
import { robfigParse, schedulesOf } from "./robfigCron.js";

export interface RenderedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: any;
}

/** Pulumi Kubernetes resource types that are not one object of the API. */
const NOT_OBJECTS =
  /^(pulumi:providers:kubernetes|kubernetes:helm\.sh\/.*|kubernetes:yaml\/.*|kubernetes:kustomize\/.*)$/;

/** The Kubernetes objects of a render, each with whether it is a patch (server-side apply of a partial object). */
export function kubernetesObjects(
  resources: readonly RenderedResource[],
): { obj: any; patch: boolean; resource: string }[] {
  return resources
    .filter((r) => r.type.startsWith("kubernetes:") && !NOT_OBJECTS.test(r.type) && r.inputs?.kind)
    .map((r) => ({ obj: r.inputs, patch: r.type.endsWith("Patch"), resource: `${r.type}::${r.name}` }));
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Kubernetes' length rules for names and labels: a CronJob name at most 52 characters
 * (pkg/apis/batch/validation: the controller appends an 11-character suffix for its Jobs), the
 * names of Services and Namespaces DNS-1123 labels of at most 63, label values at most 63
 * (k8s.io/apimachinery/pkg/util/validation IsValidLabelValue), other names DNS subdomains of at most 253.
 */
export function nameErrors(obj: any): string[] {
  const md = obj?.metadata ?? {};
  const label = `${obj?.kind} ${md.namespace ? `${md.namespace}/` : ""}${md.name}`;
  const errors: string[] = [];
  const name: unknown = md.name;
  if (typeof name === "string") {
    if (obj.kind === "CronJob" && name.length > 52)
      errors.push(`${label}: CronJob name has ${name.length} characters, Kubernetes allows 52`);
    if (["Service", "Namespace"].includes(obj.kind) && (name.length > 63 || !DNS1123_LABEL.test(name)))
      errors.push(`${label}: name must be a DNS-1123 label of at most 63 characters`);
    if (name.length > 253) errors.push(`${label}: name longer than 253 characters`);
  }
  if (typeof md.namespace === "string" && (md.namespace.length > 63 || !DNS1123_LABEL.test(md.namespace)))
    errors.push(`${label}: namespace must be a DNS-1123 label of at most 63 characters`);
  const labelMaps: [string, unknown][] = [
    ["metadata.labels", md.labels],
    ["spec.template.metadata.labels", obj?.spec?.template?.metadata?.labels],
    ["spec.jobTemplate.metadata.labels", obj?.spec?.jobTemplate?.metadata?.labels],
    ["spec.jobTemplate.spec.template.metadata.labels", obj?.spec?.jobTemplate?.spec?.template?.metadata?.labels],
    ["spec.selector.matchLabels", obj?.spec?.selector?.matchLabels],
  ];
  for (const [where, labels] of labelMaps) {
    if (!labels || typeof labels !== "object") continue;
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v))
        errors.push(
          `${label}: ${where}[${k}] = ${JSON.stringify(v)} is not a valid label value (at most 63 characters)`,
        );
    }
  }
  return errors;
}

/** Every problem the upstream rules find in a render; [] when it is all valid. */
export async function renderProblems(resources: readonly RenderedResource[]): Promise<string[]> {
  const problems: string[] = [];
  const objects = kubernetesObjects(resources);
  for (const { obj, patch, resource } of objects) {
    if (isBuiltIn(obj.apiVersion, obj.kind)) problems.push(...(await validateBuiltIn(obj, { patch })));
    else if (hasCrd(obj.apiVersion, obj.kind)) problems.push(...validateCustomResource(obj));
    else
      problems.push(
        `${resource}: ${obj.apiVersion} ${obj.kind} is neither a built-in kind nor defined by a CRD in test/fixtures/crds`,
      );
    problems.push(...nameErrors(obj));
  }
  const schedules = schedulesOf(objects.map((o) => o.obj));
  const robfig = await robfigParse([...new Set(schedules.map((s) => s.schedule))], new Date(Date.UTC(2026, 0, 1)), 1);
  for (const { where, schedule } of schedules) {
    const r = robfig.get(schedule)!;
    if (r.error) problems.push(`${where}: schedule ${JSON.stringify(schedule)} is refused by robfig/cron: ${r.error}`);
    else if (r.next.length === 0) problems.push(`${where}: schedule ${JSON.stringify(schedule)} never runs`);
  }
  for (const r of resources.filter(
    (x) => x.type === "kubernetes:helm.sh/v3:Release" && /velero/.test(String(x.inputs?.chart)),
  )) {
    problems.push(...validateHelmValues(r.inputs.values ?? {}).map((e) => `${r.name} (Velero chart values): ${e}`));
  }
  return problems;
}
