/**
 * The Pi-hub keys of the hub section (server, release, OS, monitoring) and their checks; composed
 * into the hub schema by components/hub/schema.ts. Every refusal names the key it is about.
 */
import { z } from "zod";
import { MINIO_REFUSAL, serverRelease, serverVersionError } from "../releases.js";

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "must be a sha256: 64 hexadecimal characters")
  .transform((v) => v.toLowerCase());

/** The defaults of the keys a pi hub adds (part of HUB_DEFAULTS in components/hub/schema.ts). */
export const PI_HUB_DEFAULTS = { server: "silo", os: "debian", monitoring: true } as const;

/** The keys a pi hub adds to the hub section. */
export const piHubFields = {
  /** `silo` or `rustfs`; `minio` is accepted by the parser only to be refused with its reason. @default "silo" */
  server: z.enum(["silo", "rustfs", "minio"]).default(PI_HUB_DEFAULTS.server),
  /** The server release to install. @default the release this project pins (components/hub/releases.ts) */
  version: z.string().min(1).optional(),
  /** Extension: the published sha256 per architecture of a `version` this project does not pin. */
  sha256: z.strictObject({ arm64: sha256, amd64: sha256 }).optional(),
  /** @default "debian" */
  os: z.enum(["debian", "nixos"]).default(PI_HUB_DEFAULTS.os),
  /** Node exporter on the hub, scraped by the cluster's Prometheus. @default true */
  monitoring: z.boolean().default(PI_HUB_DEFAULTS.monitoring),
} as const;

/** The pi-only keys, for "applies only to hub.kind pi" checks. */
export const PI_ONLY_KEYS = ["server", "version", "sha256", "os"] as const;

interface PiFields {
  server: "silo" | "rustfs" | "minio";
  version?: string;
  sha256?: { arm64: string; amd64: string };
  objectLock?: unknown;
}

/** Checks of the pi keys, added to the hub section's refinement (path relative to the stack: ["hub", ...]). */
export function checkPiHub(hub: PiFields, ctx: z.RefinementCtx): void {
  if (hub.server === "minio") {
    ctx.addIssue({ code: "custom", path: ["hub", "server"], message: MINIO_REFUSAL });
    return;
  }
  if (hub.version !== undefined) {
    const err = serverVersionError(hub.server, hub.version);
    if (err) ctx.addIssue({ code: "custom", path: ["hub", "version"], message: err });
    else {
      // A release this project does not pin is installed only against the sha256 the stack gives.
      try {
        serverRelease(hub.server, hub.version, hub.sha256);
      } catch (e) {
        ctx.addIssue({
          code: "custom",
          path: ["hub", "sha256"],
          message: (e as Error).message.replace(/^hub\.sha256 /, ""),
        });
      }
    }
  }
  if (hub.objectLock && hub.server !== "silo") {
    ctx.addIssue({
      code: "custom",
      path: ["hub", "objectLock"],
      message: `is refused on server "${hub.server}": this project does not rely on its object lock (it regressed across RustFS releases); use server "silo" or remove hub.objectLock`,
    });
  }
}
