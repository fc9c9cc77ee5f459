/** The buckets section: S3 buckets mirrored onto the hub. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { names } from "../core/names.js";
import {
  bucketName,
  checkNameFits,
  cron,
  CRONJOB_NAME_MAX,
  derivingName,
  type DerivedName,
  dnsLabel,
  dnsSubdomain,
  uniqueBy,
} from "../core/schema.js";

/**
 * The defaults of a mirror. The schema does not fill `source.region` in: the mirror job, its drill and the
 * plan read it through `mirrorSourceRegion`, so a mirror built with or without the schema gets the same.
 */
export const MIRROR_DEFAULTS = { source: { region: "us-east-1" } } as const;

/** The region the mirror job signs its requests to the source with. */
export function mirrorSourceRegion(mirror: { readonly source: { readonly region?: string } }): string {
  return mirror.source.region ?? MIRROR_DEFAULTS.source.region;
}

/**
 * The Kubernetes names made from a mirror's `name`: its CronJob, and the drill's CronJob (made when
 * drills.buckets is set; counted always, so adding the drill never makes a valid name invalid).
 */
export const MIRROR_DERIVED_NAMES: readonly DerivedName[] = [
  { kind: "CronJob", of: names.mirrorCronJob, max: CRONJOB_NAME_MAX },
  { kind: "CronJob", of: names.mirrorDrillCronJob, max: CRONJOB_NAME_MAX },
];

export const mirrorSchema = z.strictObject({
  /** Names the mirror's CronJob and its drill's: one length limit, the tightest (MIRROR_DERIVED_NAMES). */
  name: derivingName,
  schedule: cron,
  source: z.strictObject({
    endpoint: z.string().url("must be a URL such as http://rook-ceph-rgw.rook-ceph.svc:80"),
    bucket: bucketName,
    /** @default "us-east-1" */
    region: z.string().min(1).optional(),
    credentialsSecret: z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain }),
  }),
});

/** The defaults of the buckets section: RestoreDrills' `mirrors` reads them too. */
export const BUCKETS_DEFAULTS = { mirrors: [] as z.output<typeof mirrorSchema>[] } as const;

export const bucketsSchema = z
  .strictObject({
    /** @default [] */
    mirrors: z.array(mirrorSchema).default(BUCKETS_DEFAULTS.mirrors),
  })
  .superRefine((b, ctx) => {
    uniqueBy(b.mirrors, (m) => m.name, "mirror", ctx, ["mirrors"]);
    b.mirrors.forEach((m, i) => checkNameFits(ctx, ["mirrors", i, "name"], m.name, MIRROR_DERIVED_NAMES));
  });

/** The mirror section, parsed and defaulted. */
export type BucketsConfig = z.output<typeof bucketsSchema>;
