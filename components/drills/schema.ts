/**
 * The drills section: one restore drill per data class, each on its own schedule. Part of the stack
 * file schema (components/config.ts composes the sections and checks that each drill's class is
 * configured). `postgres` has the shape of `postgres.restoreDrill`, which stays accepted as the same drill.
 */
import { z } from "zod";
import { cron, dnsLabel, dnsSubdomain, goDuration, pinnedImage, posInt } from "../core/schema.js";

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

/**
 * A PVC as `namespace/name`, or as `{namespace, name}` (the form `longhorn.pvcs` uses), kept as
 * `namespace/name`.
 */
const pvcRef = z.union([
  z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a PVC as "namespace/name"'),
  z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain }).transform((p) => `${p.namespace}/${p.name}`),
]);

export const drillsSchema = z.strictObject({
  /** Extension: the namespace of the drill CronJobs (and of the Longhorn drill's reader pods). */
  namespace: dnsLabel().default("homelab-drills"),
  postgres: z
    .strictObject({
      schedule: cron.default("0 6 * * 0"),
      databases: z.array(z.string()).optional(),
      checks: z.array(z.string().min(1)).min(1, "must list at least one SQL check").optional(),
      rtoTarget,
    })
    .optional(),
  velero: z
    .strictObject({
      schedule: cron.default("30 6 * * 0"),
      namespaces: z.array(dnsLabel(57)).min(1, "must list at least one namespace"),
      rtoTarget,
      /** Extension: how long one Restore may take before the drill gives up. */
      timeout: goDuration.default("30m"),
    })
    .optional(),
  longhorn: z
    .strictObject({
      schedule: cron.default("0 7 * * 0"),
      pvcs: z.array(pvcRef).min(1, "must list at least one PVC"),
      rtoTarget,
      /** Extension: how long a volume restore may take before the drill gives up. */
      timeout: goDuration.default("2h"),
      /** Extension: the image of the short-lived pod that reads the restored volume. */
      readerImage: pinnedImage.default(DRILL_IMAGES.busybox),
    })
    .optional(),
  etcd: z.strictObject({ schedule: cron.default("30 7 * * 0"), rtoTarget, minKeys: posInt(1).default(1) }).optional(),
  offsite: z
    .strictObject({ schedule: cron.default("0 8 * * 0"), sampleFiles: posInt(1).default(5), rtoTarget })
    .optional(),
  buckets: z
    .strictObject({ schedule: cron.default("30 8 * * 0"), sampleObjects: posInt(1).default(20), rtoTarget })
    .optional(),
});

/** The drills section, parsed and defaulted. */
export type DrillsConfig = z.output<typeof drillsSchema>;
/** The classes a drill can prove, in plan order. */
export const DRILL_CLASSES = ["postgres", "velero", "longhorn", "etcd", "offsite", "buckets"] as const;
export type DrillClass = (typeof DRILL_CLASSES)[number];
