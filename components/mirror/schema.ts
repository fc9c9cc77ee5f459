/** The buckets section: S3 buckets mirrored onto the hub. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { names } from "../core/names.js";
import { bucketName, checkDerivedCronJobName, cron, dnsLabel, dnsSubdomain, uniqueBy } from "../core/schema.js";

/**
 * The defaults of a mirror. The schema does not fill `source.region` in: the mirror job, its drill and the
 * plan read it through `mirrorSourceRegion`, so a mirror built with or without the schema gets the same.
 */
export const MIRROR_DEFAULTS = { source: { region: "us-east-1" } } as const;

/** The region the mirror job signs its requests to the source with. */
export function mirrorSourceRegion(mirror: { readonly source: { readonly region?: string } }): string {
  return mirror.source.region ?? MIRROR_DEFAULTS.source.region;
}

export const mirrorSchema = z.strictObject({
  name: dnsLabel(40),
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
    b.mirrors.forEach((m, i) =>
      checkDerivedCronJobName(ctx, ["mirrors", i, "name"], m.name, names.mirrorCronJob(m.name)),
    );
  });

/** The mirror section, parsed and defaulted. */
export type BucketsConfig = z.output<typeof bucketsSchema>;
