/**
 * The stack resolved once, for what several places read: today the hub's identities and their
 * rights. components/stack.ts builds the hub from it and components/plan.ts lists it, so the rights
 * plan.md shows are the policy documents that are attached (test/hub/planRights.integration.test.ts).
 */
import { hubOf, offsiteOf, type StackConfig } from "./config.js";
import { drillReadPrefixes } from "./drills/logic.js";
import { writerPolicies } from "./hub/iam.js";
import { hubWritersInUse, type HubRights } from "./hub/rights.js";

/** The hub's rights for a stack that has a hub. */
export function hubRights(stack: StackConfig): HubRights {
  const hub = hubOf(stack);
  const offsitePrefixes = offsiteOf(stack)?.prefixes;
  const drillPrefixes = stack.drills ? drillReadPrefixes(stack.drills, offsitePrefixes) : undefined;
  const inUse = hubWritersInUse(stack).map((w) => w.name);
  const all = writerPolicies(hub.bucket, { offsitePrefixes, drillPrefixes, longhornPrefix: stack.longhorn?.prefix });
  return { inUse, offsitePrefixes, drillPrefixes, policies: Object.fromEntries(inUse.map((w) => [w, all[w]])) };
}
