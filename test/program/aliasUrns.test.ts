/**
 * The URNs aliases stand for (tools/mocks.ts `registeredOptions`, tools/urns.ts), on a small component
 * hierarchy registered twice under the mocks: once as an earlier version of a program had it, once moved,
 * retyped and renamed with `aliases`. Each alias must stand for exactly the URN the resource had before, and
 * the second registration must take over every resource of the first, as the engine would: the URN test of
 * the real stacks (test/program/urns.test.ts) relies on both.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, recordingMocks, settle, type RecordingMocks } from "../../tools/mocks.js";
import { matchOldResources } from "../../tools/urns.js";
import { registrationsOf } from "../support/urnBaseline.js";

const PREFIX = "urn:pulumi:homelab::homelab-backup::";
const STRING = "random:index/randomString:RandomString";

class Component extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    this.registerOutputs({});
  }
}

const leaf = (name: string, opts: pulumi.CustomResourceOptions) => new random.RandomString(name, { length: 8 }, opts);

/** The earlier version: everything where it was first written. */
function before(): void {
  const top = new Component("test:index:Top", "top");
  const a = new Component("test:index:A", "a", { parent: top });
  leaf("moved", { parent: a });
  leaf("old-name", { parent: top });
  const sync = new Component("test:index:OldSync", "sync");
  leaf("sync-key", { parent: sync });
  leaf("sync-secret", { parent: sync });
  const mirror = new Component("test:index:Mirror", "mirror");
  leaf("mirror-cronjob", { parent: mirror });
  leaf("loose", {});
  const c = new Component("test:index:OldC", "c");
  leaf("moved-from-c", { parent: c });
}

/** The same resources after a refactoring that gives each move its alias. */
function after(): void {
  const top = new Component("test:index:Top", "top");
  const a = new Component("test:index:A", "a", { parent: top });
  const b = new Component("test:index:B", "b", { parent: top });
  // Moved from A to B.
  leaf("moved", { parent: b, aliases: [{ parent: a }] });
  // Renamed.
  leaf("new-name", { parent: top, aliases: [{ name: "old-name" }] });
  // The component's type renamed; its children follow it without aliases of their own, except one also renamed.
  const sync = new Component("test:index:NewSync", "sync", { aliases: [{ type: "test:index:OldSync" }] });
  leaf("sync-key", { parent: sync });
  leaf("sync-token", { parent: sync, aliases: [{ name: "sync-secret" }] });
  // The component renamed; its child's name, made from the component's, changes with it.
  const mirror = new Component("test:index:Mirror", "mirror-photos", { aliases: [{ name: "mirror" }] });
  leaf("mirror-photos-cronjob", { parent: mirror });
  // Moved under a parent from none.
  leaf("loose", { parent: top, aliases: [{ parent: undefined }] });
  // Moved out of a component whose type was renamed too: the alias names the component as it is now.
  const c = new Component("test:index:NewC", "c", { aliases: [{ type: "test:index:OldC" }] });
  leaf("moved-from-c", { parent: b, aliases: [{ parent: c }] });
}

let first: RecordingMocks;
let second: RecordingMocks;

beforeAll(async () => {
  first = recordingMocks();
  await installMocks(first);
  before();
  await settle();
  second = recordingMocks();
  await installMocks(second);
  after();
  await settle();
});

const aliasesOf = (rec: RecordingMocks, type: string, name: string) => rec.one(type, name).options!.aliases;
const urnsOf = (rec: RecordingMocks) => new Set(rec.resources.map((r) => r.urn!));

describe("the URN an alias stands for", () => {
  it("names the parent's whole type chain, as the engine names a grandchild", () => {
    expect(first.one(STRING, "moved").urn).toBe(`${PREFIX}test:index:Top$test:index:A$${STRING}::moved`);
  });

  it("{ parent }: the resource's type and name under the named parent", () => {
    expect(aliasesOf(second, STRING, "moved")).toEqual([`${PREFIX}test:index:Top$test:index:A$${STRING}::moved`]);
    expect(aliasesOf(second, STRING, "moved")).toEqual([first.one(STRING, "moved").urn]);
  });

  it("{ parent: undefined }: the resource without a parent, in the deployment's stack and project", () => {
    expect(aliasesOf(second, STRING, "loose")).toEqual([`${PREFIX}${STRING}::loose`]);
    expect(aliasesOf(second, STRING, "loose")).toEqual([first.one(STRING, "loose").urn]);
  });

  it("{ type }: the other type, same name, same parent", () => {
    expect(aliasesOf(second, "test:index:NewSync", "sync")).toEqual([`${PREFIX}test:index:OldSync::sync`]);
    expect(aliasesOf(second, "test:index:NewSync", "sync")).toEqual([first.one("test:index:OldSync", "sync").urn]);
  });

  it("{ name }: the other name, same type, under its own parent", () => {
    expect(aliasesOf(second, STRING, "new-name")).toEqual([`${PREFIX}test:index:Top$${STRING}::old-name`]);
    expect(aliasesOf(second, STRING, "new-name")).toEqual([first.one(STRING, "old-name").urn]);
  });

  it("is read as written, under the new parent's URN, before the parent's own alias is known", () => {
    expect(aliasesOf(second, STRING, "sync-token")).toEqual([`${PREFIX}test:index:NewSync$${STRING}::sync-secret`]);
  });
});

describe("what the engine takes over", () => {
  it("every resource of the earlier version, through the aliases and the ones children inherit", () => {
    const match = matchOldResources(registrationsOf(second.resources), urnsOf(first));
    expect(match.deleted).toEqual([]);
    expect(match.created).toEqual([`${PREFIX}test:index:Top$test:index:B::b`]);
    expect(match.errors).toEqual([]);
    const takes = (type: string, name: string) => match.matched.get(second.one(type, name).urn!);
    expect(takes(STRING, "sync-key")).toBe(`${PREFIX}test:index:OldSync$${STRING}::sync-key`);
    expect(takes(STRING, "sync-token")).toBe(`${PREFIX}test:index:OldSync$${STRING}::sync-secret`);
    expect(takes(STRING, "mirror-photos-cronjob")).toBe(`${PREFIX}test:index:Mirror$${STRING}::mirror-cronjob`);
    // The alias names NewC; the engine reads it under the URN NewC was found by.
    expect(aliasesOf(second, STRING, "moved-from-c")).toEqual([`${PREFIX}test:index:NewC$${STRING}::moved-from-c`]);
    expect(takes(STRING, "moved-from-c")).toBe(`${PREFIX}test:index:OldC$${STRING}::moved-from-c`);
  });

  it("nothing that changed URN when the aliases are left out: deleted and created again", () => {
    const withoutAliases = registrationsOf(second.resources).map((r) => ({ ...r, aliases: [] }));
    const match = matchOldResources(withoutAliases, urnsOf(first));
    expect(match.deleted).toEqual(
      [
        `${PREFIX}test:index:Top$test:index:A$${STRING}::moved`,
        `${PREFIX}test:index:Top$${STRING}::old-name`,
        `${PREFIX}test:index:OldSync::sync`,
        `${PREFIX}test:index:OldSync$${STRING}::sync-key`,
        `${PREFIX}test:index:OldSync$${STRING}::sync-secret`,
        `${PREFIX}test:index:Mirror::mirror`,
        `${PREFIX}test:index:Mirror$${STRING}::mirror-cronjob`,
        `${PREFIX}${STRING}::loose`,
        `${PREFIX}test:index:OldC::c`,
        `${PREFIX}test:index:OldC$${STRING}::moved-from-c`,
      ].sort(),
    );
  });

  it("refuses two resources that take over one old resource", () => {
    const regs = registrationsOf(second.resources);
    const clash = { ...regs.find((r) => r.urn.endsWith("::new-name"))!, urn: `${PREFIX}test:index:Top$${STRING}::x` };
    const match = matchOldResources([...regs, clash], urnsOf(first));
    expect(match.errors).toEqual([
      `${clash.urn} and ${PREFIX}test:index:Top$${STRING}::new-name both take over ${PREFIX}test:index:Top$${STRING}::old-name`,
    ]);
  });
});
