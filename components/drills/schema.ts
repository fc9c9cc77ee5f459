/**
 * The drills section: one restore drill per data class, each on its own schedule. Part of the stack
 * file schema (components/config.ts composes the sections and checks that each drill's class is
 * configured). `postgres` has the shape of `postgres.restoreDrill`, which stays accepted as the same drill.
 */
import { z } from "zod";
import { cron, dnsLabel, dnsSubdomain, goDuration, pinnedImage, posInt } from "../core/schema.js";
import { POSTGRES_DEFAULTS } from "../postgres/schema.js";

/** Images the drills run (pinned; never `latest`). */
export const DRILL_IMAGES = {
  /** kubectl + jq + a shell (Alpine): the Velero and Longhorn drills talk to the API server. */
  kubectl: "alpine/k8s:1.33.4",
  /** The etcd release image: etcd, etcdctl, etcdutl (distroless: the shell comes from busybox). */
  etcd: "gcr.io/etcd-development/etcd:v3.5.21",
  /** A statically linked busybox: the etcd drill's shell and tools, and the Longhorn drill's reader. */
  busybox: "busybox:1.37.0",
} as const;

/** The measured restore time the plan and the RTO alert compare against, e.g. "30m", "2h". */
const rtoTarget = goDuration.optional();

/** A PVC given as `{namespace, name}`, as `namespace/name` (the form the drills keep). */
export function pvcRefString(p: string | { readonly namespace: string; readonly name: string }): string {
  return typeof p === "string" ? p : `${p.namespace}/${p.name}`;
}

/**
 * A PVC as `namespace/name`, or as `{namespace, name}` (the form `longhorn.pvcs` uses), kept as
 * `namespace/name`.
 */
const pvcRef = z.union([
  z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a PVC as "namespace/name"'),
  z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain }).transform(pvcRefString),
]);

/**
 * Every default of the drills section, in one place: the schema's `.default()`s below and RestoreDrills
 * (through `drillsWithDefaults`) read them here. The PostgreSQL drill is `postgres.restoreDrill` under
 * another name, so its schedule is that one's.
 */
export const DRILLS_DEFAULTS = {
  namespace: "homelab-drills",
  postgres: { schedule: POSTGRES_DEFAULTS.restoreDrill.schedule },
  velero: { schedule: "30 6 * * 0", timeout: "30m" },
  longhorn: { schedule: "0 7 * * 0", timeout: "2h", readerImage: DRILL_IMAGES.busybox },
  etcd: { schedule: "30 7 * * 0", minKeys: 1 },
  offsite: { schedule: "0 8 * * 0", sampleFiles: 5 },
  buckets: { schedule: "30 8 * * 0", sampleObjects: 20 },
} as const;

const d = DRILLS_DEFAULTS;

export const drillsSchema = z.strictObject({
  /** Extension: the namespace of the drill CronJobs (and of the Longhorn drill's reader pods). @default "homelab-drills" */
  namespace: dnsLabel().default(d.namespace),
  postgres: z
    .strictObject({
      /** @default "0 6 * * 0" */
      schedule: cron.default(d.postgres.schedule),
      /** @default every database of postgres.databases */
      databases: z.array(z.string()).optional(),
      /** @default [DEFAULT_CHECK] (components/postgres/schema.ts): at least one table outside the system schemas */
      checks: z.array(z.string().min(1)).min(1, "must list at least one SQL check").optional(),
      rtoTarget,
    })
    .optional(),
  velero: z
    .strictObject({
      /** @default "30 6 * * 0" */
      schedule: cron.default(d.velero.schedule),
      namespaces: z.array(dnsLabel(57)).min(1, "must list at least one namespace"),
      rtoTarget,
      /** Extension: how long one Restore may take before the drill gives up. @default "30m" */
      timeout: goDuration.default(d.velero.timeout),
    })
    .optional(),
  longhorn: z
    .strictObject({
      /** @default "0 7 * * 0" */
      schedule: cron.default(d.longhorn.schedule),
      pvcs: z.array(pvcRef).min(1, "must list at least one PVC"),
      rtoTarget,
      /** Extension: how long a volume restore may take before the drill gives up. @default "2h" */
      timeout: goDuration.default(d.longhorn.timeout),
      /** Extension: the image of the short-lived pod that reads the restored volume. @default "busybox:1.37.0" */
      readerImage: pinnedImage.default(d.longhorn.readerImage),
    })
    .optional(),
  etcd: z
    .strictObject({
      /** @default "30 7 * * 0" */
      schedule: cron.default(d.etcd.schedule),
      rtoTarget,
      /** @default 1 */
      minKeys: posInt(1).default(d.etcd.minKeys),
    })
    .optional(),
  offsite: z
    .strictObject({
      /** @default "0 8 * * 0" */
      schedule: cron.default(d.offsite.schedule),
      /** @default 5 */
      sampleFiles: posInt(1).default(d.offsite.sampleFiles),
      rtoTarget,
    })
    .optional(),
  buckets: z
    .strictObject({
      /** @default "30 8 * * 0" */
      schedule: cron.default(d.buckets.schedule),
      /** @default 20 */
      sampleObjects: posInt(1).default(d.buckets.sampleObjects),
      rtoTarget,
    })
    .optional(),
});

/** The drills section, parsed and defaulted. */
export type DrillsConfig = z.output<typeof drillsSchema>;
/** The drills section as written: every key with a default may be left out. */
export type DrillsInput = z.input<typeof drillsSchema>;

/** The drills section with every default of the schema applied (DRILLS_DEFAULTS), PVCs as `namespace/name`. */
export function drillsWithDefaults(i: DrillsInput): DrillsConfig {
  const { postgres, velero, longhorn, etcd, offsite, buckets } = i;
  return {
    ...i,
    namespace: i.namespace ?? d.namespace,
    postgres: postgres && { ...postgres, schedule: postgres.schedule ?? d.postgres.schedule },
    velero: velero && {
      ...velero,
      schedule: velero.schedule ?? d.velero.schedule,
      timeout: velero.timeout ?? d.velero.timeout,
    },
    longhorn: longhorn && {
      ...longhorn,
      schedule: longhorn.schedule ?? d.longhorn.schedule,
      pvcs: longhorn.pvcs.map(pvcRefString),
      timeout: longhorn.timeout ?? d.longhorn.timeout,
      readerImage: longhorn.readerImage ?? d.longhorn.readerImage,
    },
    etcd: etcd && { ...etcd, schedule: etcd.schedule ?? d.etcd.schedule, minKeys: etcd.minKeys ?? d.etcd.minKeys },
    offsite: offsite && {
      ...offsite,
      schedule: offsite.schedule ?? d.offsite.schedule,
      sampleFiles: offsite.sampleFiles ?? d.offsite.sampleFiles,
    },
    buckets: buckets && {
      ...buckets,
      schedule: buckets.schedule ?? d.buckets.schedule,
      sampleObjects: buckets.sampleObjects ?? d.buckets.sampleObjects,
    },
  };
}

/** The classes a drill can prove, in plan order. */
export const DRILL_CLASSES = ["postgres", "velero", "longhorn", "etcd", "offsite", "buckets"] as const;
export type DrillClass = (typeof DRILL_CLASSES)[number];
