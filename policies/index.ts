/**
 * The homelab-backup policy pack: `pulumi preview --policy-pack policies`. This module only builds the
 * pack (constructing it starts the analyzer's gRPC server), so tests and the offline render import
 * `./policies.js` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies.js";

new PolicyPack("homelab-backup", { policies });
