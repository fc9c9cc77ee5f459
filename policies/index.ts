/**
 * The homelab-backup policy pack: `pulumi preview --policy-pack policies`. Only this module builds
 * the pack (constructing it starts the analyzer's gRPC server); tests and the offline render import
 * `./all.js` and `./evaluate.js` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./all.js";

new PolicyPack("homelab-backup", { policies });
