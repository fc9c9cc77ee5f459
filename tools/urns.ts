/**
 * Resource URNs and aliases as the Pulumi engine computes them (README.md, "Resource URNs and aliases"):
 * the URN a registration gets, the URN each of its `aliases` stands for, and which resource of an
 * earlier deployment each registration takes over. A resource whose URN changes without an alias that
 * leads back to its old URN is deleted and created again by the next `pulumi up` (a writer's key
 * rotated, a remote command's delete step run), so the program tests hold the URNs of every stack
 * against a baseline (test/program/urns.test.ts).
 */

/** The type of the stack resource: as a parent it adds nothing to a URN. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** One entry of a registration's `aliases` option, as the SDK sends it (proto `Alias`, @pulumi/pulumi/proto/alias_pb). */
export type AliasSpec =
  | { readonly urn: string }
  | {
      readonly name: string;
      readonly type: string;
      readonly stack: string;
      readonly project: string;
      /** The parent the alias names, "" when it names none. */
      readonly parentUrn: string;
      /** The alias says the resource had no parent. */
      readonly noParent: boolean;
    };

/** What an alias leaves out is taken from the resource it belongs to and from the deployment. */
export interface AliasOwner {
  readonly name: string;
  readonly type: string;
  /** URN of the resource's parent, "" for none. */
  readonly parentUrn: string;
  readonly project: string;
  readonly stack: string;
}

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>` → the qualified type (the parents' types and its own, `$`-separated). */
export function qualifiedType(urn: string): string {
  return urn.split("::")[2];
}

/** The resource's own type: the last of its qualified type. */
export function urnType(urn: string): string {
  return qualifiedType(urn).split("$").pop()!;
}

/** The resource's name: everything after the qualified type (a name may contain `::`). */
export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** The stack and project a URN names. */
export function urnStackAndProject(urn: string): { stack: string; project: string } {
  const [head, project] = urn.split("::");
  return { stack: head.slice("urn:pulumi:".length), project };
}

/** A URN with a parent's qualified type before the resource's own type (none when it is the stack itself). */
function newUrn(stack: string, project: string, parentType: string, type: string, name: string): string {
  const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The URN the engine gives a registration: a child carries its parent's whole qualified type, not only the parent's own type. */
export function resourceUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
  return newUrn(stack, project, parentUrn ? qualifiedType(parentUrn) : "", type, name);
}

/** A URN from an alias's parts: under a parent, the parent's URN up to its name, then `$type::name` (stack and project come from the parent). */
function createUrn(name: string, type: string, parentUrn: string, project: string, stack: string): string {
  if (!parentUrn) return `urn:pulumi:${stack}::${project}::${type}::${name}`;
  return `${parentUrn.slice(0, parentUrn.lastIndexOf("::"))}$${type}::${name}`;
}

/**
 * The URN one alias stands for. `oldUrnOf` answers, for a parent found in the earlier deployment under an
 * alias of its own, the URN it had there: an alias that names (or defaults to) that parent is read under
 * the parent's old URN. Without it the alias is read as written.
 */
export function aliasUrn(
  alias: AliasSpec,
  owner: AliasOwner,
  oldUrnOf: (urn: string) => string | undefined = () => undefined,
): string {
  if ("urn" in alias) return alias.urn;
  let parent = alias.parentUrn || owner.parentUrn;
  if (alias.parentUrn) parent = oldUrnOf(alias.parentUrn) ?? parent;
  if (alias.noParent || (parent && qualifiedType(parent) === ROOT_STACK_TYPE)) parent = "";
  return createUrn(
    alias.name || owner.name,
    alias.type || owner.type,
    parent,
    alias.project || owner.project,
    alias.stack || owner.stack,
  );
}

/**
 * The alias a child gets from its parent's old URN: the child under the parent's old qualified type,
 * and, when the child's name starts with the parent's name, that prefix replaced by the parent's old name.
 */
function inheritedChildAlias(
  childType: string,
  childName: string,
  parentName: string,
  parentOldUrn: string,
  deployment: { stack: string; project: string },
): string {
  const name = childName.startsWith(parentName)
    ? urnName(parentOldUrn) + childName.slice(parentName.length)
    : childName;
  return newUrn(deployment.stack, deployment.project, qualifiedType(parentOldUrn), childType, name);
}

/** A registration as the URN checks need it. */
export interface Registration {
  readonly urn: string;
  /** URN of the parent, "" for none. */
  readonly parentUrn: string;
  readonly aliases: readonly AliasSpec[];
}

/** What the next deployment would do with the resources of an earlier one. */
export interface OldResourceMatch {
  /** URN of a registration → the URN of the earlier resource it takes over (its own, or one an alias leads to). */
  readonly matched: ReadonlyMap<string, string>;
  /** Registrations that take over no earlier resource: created. */
  readonly created: readonly string[];
  /** Earlier resources that no registration takes over: deleted. */
  readonly deleted: readonly string[];
  /** What the engine refuses: a URN registered twice, two registrations claiming one earlier resource. */
  readonly errors: readonly string[];
}

/**
 * Which earlier resource each registration takes over, in the engine's order: a parent before its
 * children, then for each registration its own URN, then the URNs of its aliases, then the aliases it
 * inherits from a parent that was found under an old URN (each of its own aliases moved under that
 * parent too). The first of these that the earlier deployment has is the one it takes over.
 */
export function matchOldResources(registrations: readonly Registration[], olds: ReadonlySet<string>): OldResourceMatch {
  const byUrn = new Map<string, Registration>();
  const errors: string[] = [];
  for (const r of registrations) {
    if (byUrn.has(r.urn)) errors.push(`${r.urn} is registered twice`);
    byUrn.set(r.urn, r);
  }
  // The engine sees a child only after its parent: order the registrations so.
  const ordered: Registration[] = [];
  const placed = new Set<string>();
  const place = (r: Registration, seen: Set<string>) => {
    if (placed.has(r.urn) || seen.has(r.urn)) return;
    seen.add(r.urn);
    const parent = byUrn.get(r.parentUrn);
    if (parent) place(parent, seen);
    placed.add(r.urn);
    ordered.push(r);
  };
  for (const r of registrations) place(r, new Set());

  const oldUrnOf = new Map<string, string>(); // a registration found under an alias → the old URN
  const claimedBy = new Map<string, string>(); // an old URN → the registration that took it over
  const matched = new Map<string, string>();
  const created: string[] = [];
  for (const r of ordered) {
    const owner: AliasOwner = {
      name: urnName(r.urn),
      type: urnType(r.urn),
      parentUrn: r.parentUrn,
      ...urnStackAndProject(r.urn),
    };
    const candidates = new Set<string>([r.urn]);
    for (const a of r.aliases) candidates.add(aliasUrn(a, owner, (u) => oldUrnOf.get(u)));
    const parentOld = r.parentUrn ? oldUrnOf.get(r.parentUrn) : undefined;
    if (parentOld) {
      const inherit = (type: string, name: string) =>
        candidates.add(inheritedChildAlias(type, name, urnName(r.parentUrn), parentOld, owner));
      inherit(owner.type, owner.name);
      for (const a of r.aliases) {
        const own = aliasUrn(a, owner, (u) => oldUrnOf.get(u));
        inherit(urnType(own), urnName(own));
      }
    }
    const found = [...candidates].find((c) => olds.has(c));
    if (!found) {
      created.push(r.urn);
      continue;
    }
    // The engine refuses a second resource for one old URN, by its own URN or through an alias.
    if (claimedBy.has(found)) errors.push(`${r.urn} and ${claimedBy.get(found)} both take over ${found}`);
    if (found !== r.urn) oldUrnOf.set(r.urn, found);
    claimedBy.set(found, r.urn);
    matched.set(r.urn, found);
  }
  const taken = new Set(matched.values());
  return { matched, created, deleted: [...olds].filter((u) => !taken.has(u)).sort(), errors };
}
