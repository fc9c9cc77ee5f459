/** The buckets section: S3 buckets mirrored onto the hub. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { names } from "../core/names.js";
import { bucketName, checkDerivedCronJobName, cron, dnsLabel, dnsSubdomain, uniqueBy } from "../core/schema.js";

export const mirrorSchema = z.strictObject({
  name: dnsLabel(40),
  schedule: cron,
  source: z.strictObject({
    endpoint: z.string().url("must be a URL such as http://rook-ceph-rgw.rook-ceph.svc:80"),
    bucket: bucketName,
    region: z.string().min(1).optional(),
    credentialsSecret: z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain }),
  }),
});

export const bucketsSchema = z.strictObject({ mirrors: z.array(mirrorSchema).default([]) }).superRefine((b, ctx) => {
  uniqueBy(b.mirrors, (m) => m.name, "mirror", ctx, ["mirrors"]);
  b.mirrors.forEach((m, i) =>
    checkDerivedCronJobName(ctx, ["mirrors", i, "name"], m.name, names.mirrorCronJob(m.name)),
  );
});

/** The mirror section, parsed and defaulted. */
export type BucketsConfig = z.output<typeof bucketsSchema>;
