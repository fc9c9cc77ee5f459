/**
 * URN stability: for the example stack and every stack file of test/fixtures, a `pulumi up` of this code over
 * a stack deployed from the baseline (test/fixtures/urns/<stack>.json) replaces nothing. Every URN of the
 * baseline is registered again or taken over through an alias (tools/urns.ts reads aliases as the engine does),
 * and every URN registered is in the baseline or explained there as new. Moving a component, renaming it or
 * changing its type or parent without an alias fails here: the engine would delete the old resources and create
 * new ones (writer keys rotated, remote commands' delete steps run).
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../../tools/mocks.js";
import { matchOldResources, type OldResourceMatch } from "../../tools/urns.js";
import { readBaseline, registered, registrationsOf, urnStacks, type UrnBaseline } from "../support/urnBaseline.js";
import { REPO } from "../support/stackFiles.js";

for (const s of urnStacks()) {
  describe(`stack ${s.stack} (${path.relative(REPO, s.file)})`, () => {
    let baseline: UrnBaseline | undefined;
    let resources: RecordedResource[];
    let match: OldResourceMatch;

    beforeAll(async () => {
      baseline = readBaseline(s);
      resources = await registered(s);
      match = matchOldResources(registrationsOf(resources), new Set(baseline?.urns ?? []));
    });

    it("has a baseline (npx tsx test/support/urnBaseline.ts)", () => {
      expect(baseline, path.relative(REPO, s.baseline)).toBeDefined();
      expect(baseline!.urns.length).toBeGreaterThan(0);
    });

    it("takes over every resource of the baseline, by its URN or through an alias: nothing is deleted", () => {
      expect(match.deleted).toEqual([]);
    });

    it("creates only resources the baseline explains as new", () => {
      const unexplained = match.created.filter((u) => !(u in (baseline?.new ?? {})));
      expect(unexplained).toEqual([]);
    });

    it("explains as new only URNs that are registered and not in the baseline", () => {
      const registeredUrns = new Set(resources.map((r) => r.urn));
      const stale = Object.keys(baseline?.new ?? {}).filter(
        (u) => !registeredUrns.has(u) || baseline!.urns.includes(u),
      );
      expect(stale).toEqual([]);
    });

    it("registers nothing the engine would refuse (a URN twice, one old resource claimed twice)", () => {
      expect(match.errors).toEqual([]);
    });
  });
}
