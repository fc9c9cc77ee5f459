/** The velero section: install, schedules and their ttl. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { cron, dnsLabel, goDuration, uniqueBy } from "../core/schema.js";
import { normalizeFsBackup, VOLUMES_SCHEDULE_SUFFIX, type FsBackup } from "./fsBackup.js";

export const veleroScheduleSchema = z.strictObject({
  name: dnsLabel(),
  cron,
  ttl: goDuration,
  /** @default every namespace but `excludedNamespaces` */
  includedNamespaces: z.array(z.string().min(1)).optional(),
});

/** One configured Velero schedule. */
export type VeleroScheduleConfig = z.output<typeof veleroScheduleSchema>;

/**
 * Every default of the velero section, in one place: the schema's `.default()`s below and Velero
 * (through `veleroWithDefaults`) read them here.
 */
export const VELERO_DEFAULTS = {
  namespace: "velero",
  install: true,
  fsBackup: false,
  excludedNamespaces: ["kube-system", "kube-node-lease", "kube-public", "velero"] as string[],
  excludedResources: [] as string[],
  schedules: [{ name: "daily", cron: "0 2 * * *", ttl: "720h" }] as VeleroScheduleConfig[],
} as const;

export const veleroSchema = z
  .strictObject({
    /** @default "velero" */
    namespace: dnsLabel().default(VELERO_DEFAULTS.namespace),
    /** Install Velero (its Helm chart); false: it is installed already, in `namespace`. @default true */
    install: z.boolean().default(VELERO_DEFAULTS.install),
    /** Pod-volume copies (node agent + Kopia): off, `true` (= opt-out), or `{mode: opt-in | opt-out, namespaces}`. @default false */
    fsBackup: z
      .union([
        z.boolean(),
        z.strictObject({ mode: z.enum(["opt-in", "opt-out"]), namespaces: z.array(dnsLabel()).optional() }),
      ])
      .default(VELERO_DEFAULTS.fsBackup)
      .superRefine((v, ctx) => {
        if (typeof v === "object" && v.mode === "opt-out" && v.namespaces) {
          ctx.addIssue({
            code: "custom",
            path: ["namespaces"],
            message: "applies only to mode opt-in (opt-out copies every namespace's volumes except annotated ones)",
          });
        }
      })
      .transform(normalizeFsBackup),
    /** @default ["kube-system", "kube-node-lease", "kube-public", "velero"] */
    excludedNamespaces: z.array(z.string().min(1)).default(VELERO_DEFAULTS.excludedNamespaces),
    /** @default [] */
    excludedResources: z.array(z.string().min(1)).default(VELERO_DEFAULTS.excludedResources),
    /** @default [{ name: "daily", cron: "0 2 * * *", ttl: "720h" }] */
    schedules: z.array(veleroScheduleSchema).default(VELERO_DEFAULTS.schedules),
  })
  .superRefine((v, ctx) => {
    uniqueBy(v.schedules, (s) => s.name, "schedule", ctx, ["schedules"]);
    if (v.fsBackup.mode === "opt-in" && v.fsBackup.namespaces.length > 0) {
      const max = 63 - VOLUMES_SCHEDULE_SUFFIX.length;
      v.schedules.forEach((s, i) => {
        if (s.name.length > max)
          ctx.addIssue({
            code: "custom",
            path: ["schedules", i, "name"],
            message: `must be at most ${max} characters with fsBackup opt-in namespaces (its volumes go to a Schedule named "<name>${VOLUMES_SCHEDULE_SUFFIX}")`,
          });
      });
    }
  });

/** The velero section, parsed and defaulted. */
export type VeleroConfig = z.output<typeof veleroSchema>;
/**
 * The velero section as written (every key with a default may be left out), or as parsed: `fsBackup`
 * may be the stack file's boolean or object, or its parsed form.
 */
export type VeleroInput = Omit<z.input<typeof veleroSchema>, "fsBackup"> & {
  readonly fsBackup?: z.input<typeof veleroSchema>["fsBackup"] | FsBackup;
};

/** The velero section with every default of the schema applied (VELERO_DEFAULTS), `fsBackup` in its parsed form. */
export function veleroWithDefaults(v: VeleroInput): VeleroConfig {
  const d = VELERO_DEFAULTS;
  return {
    ...v,
    namespace: v.namespace ?? d.namespace,
    install: v.install ?? d.install,
    fsBackup: normalizeFsBackup(v.fsBackup ?? d.fsBackup),
    excludedNamespaces: v.excludedNamespaces ?? d.excludedNamespaces,
    excludedResources: v.excludedResources ?? d.excludedResources,
    schedules: v.schedules ?? d.schedules,
  };
}
