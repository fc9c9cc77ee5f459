/** Policy 3: every image is pinned. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { imageError } from "../components/core/schema.js";
import { isObj } from "./support.js";
import { str } from "./support.js";
import { podSpecOf } from "./support.js";
import { k8sLabel } from "./support.js";
import { containersOf } from "./support.js";

export const HELM_TYPES = new Set([
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:helm.sh/v3:Chart",
  "kubernetes:helm.sh/v4:Chart",
]);

/** Unpinned images in Helm values: `image: "repo:tag"` strings and `image: {repository, tag, digest}` maps. */
export function helmValueImageProblems(values: unknown, path = "values"): string[] {
  const out: string[] = [];
  const walk = (v: unknown, at: string, depth: number) => {
    if (depth > 40) return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`, depth + 1));
    if (!isObj(v)) return;
    for (const [k, x] of Object.entries(v)) {
      const here = `${at}.${k}`;
      if (k === "image" && typeof x === "string") {
        const err = imageError(x);
        if (err) out.push(`${here}: ${err}`);
      } else if (k === "image" && isObj(x) && typeof x.repository === "string") {
        const tag = x.tag === undefined || x.tag === null ? "" : String(x.tag);
        const digest = str(x.digest) ?? "";
        if (digest !== "") continue;
        if (tag === "latest") out.push(`${here}.tag is "latest"; pin a version or a digest`);
        else if (tag === "" && x.repository.slice(x.repository.lastIndexOf("/") + 1).includes(":")) {
          const err = imageError(x.repository);
          if (err) out.push(`${here}.repository: ${err}`);
        }
        // An empty tag means the chart's appVersion, which the pinned chart version fixes.
      } else walk(x, here, depth + 1);
    }
  };
  walk(values, path, 0);
  return out;
}

export const pinnedImagesPolicy: ResourceValidationPolicy = {
  name: "images-pinned",
  description:
    "Every container image (workloads and Helm values) has an explicit tag other than latest, or a digest; every Helm release pins its chart version.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    const pod = podSpecOf(args.type, props);
    if (pod) {
      const label = k8sLabel(args.type, props, args.name);
      for (const { where, c } of containersOf(pod.spec)) {
        if (c.image === undefined && pod.patch) continue;
        const err = imageError(typeof c.image === "string" ? c.image : "");
        if (err) report(`${label}: container ${where} image ${err}`);
      }
      return;
    }
    if (HELM_TYPES.has(args.type)) {
      const chart = str(props.chart) ?? "";
      const local = chart.startsWith(".") || chart.startsWith("/") || chart.endsWith(".tgz");
      if (!local && (typeof props.version !== "string" || props.version === "" || props.version === "latest")) {
        report(
          `Helm release ${str(props.name) ?? args.name}: version (chart version) is not pinned; set the exact chart version`,
        );
      }
      for (const p of helmValueImageProblems(props.values))
        report(`Helm release ${str(props.name) ?? args.name}: ${p}`);
      return;
    }
    args.notApplicable("no container images");
  },
};
