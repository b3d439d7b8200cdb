/**
 * Builds configurations for the contract tests from the registry alone, so that a new kind is covered without
 * a line of test code: where each role is expected (the reference fields of every registered kind's schema),
 * how to reach a kind from the Entrypoint through such fields, and the documents that put one kind into one
 * field. Reference checks only follow what the Entrypoint reaches, so every configuration built here is rooted
 * there.
 */
import type { Manifest, ResourceDefinition } from '../../src/kernel/resource.ts';
import { defaults, type FieldPath, formatPath, type Reference } from '../../src/kernel/schema.ts';

/** A reference field of a kind: `path` is relative to `spec`, with `0` for the first item of a list. */
export interface Slot {
  readonly host: ResourceDefinition;
  readonly path: FieldPath;
  readonly role: string;
}

type Json = Record<string, unknown>;

/** Every reference field of every kind, in registry order. Maps (records) are not followed: their keys are free. */
export function referenceSlots(kinds: readonly ResourceDefinition[]): Slot[] {
  const out: Slot[] = [];
  const walk = (host: ResourceDefinition, s: Json, path: (string | number)[]) => {
    if (typeof s.role === 'string') {
      out.push({ host, path, role: s.role });
      return;
    }
    if (s.type === 'array') walk(host, s.items as Json, [...path, 0]);
    else if (s.type === 'object')
      for (const [k, child] of Object.entries((s.properties ?? {}) as Record<string, Json>))
        walk(host, child, [...path, k]);
  };
  for (const k of kinds) walk(k, k.spec as unknown as Json, []);
  return out;
}

export const key = (d: { apiVersion: string; kind: string }) => `${d.apiVersion}/${d.kind}`;

/** The identity a document of `definition` named `name` ends up with (the Entrypoint's is fixed by `mutate`). */
export function identityOf(definition: ResourceDefinition, name: string): Reference {
  const m: Manifest = {
    apiVersion: definition.apiVersion,
    kind: definition.kind,
    metadata: { name, namespace: 'default' },
    spec: defaults(definition.spec),
  };
  definition.mutate?.(m);
  return { apiVersion: m.apiVersion, kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name };
}

/**
 * For each kind the Entrypoint can reach, the slot it is reached through (shortest chain first); the
 * Entrypoint itself maps to `undefined`.
 */
export function reachability(kinds: readonly ResourceDefinition[]): Map<string, Slot | undefined> {
  const slots = referenceSlots(kinds);
  const root = kinds.find((k) => key(k) === 'core/v1/Entrypoint');
  const reached = new Map<string, Slot | undefined>();
  if (!root) return reached;
  reached.set(key(root), undefined);
  let frontier = [root];
  while (frontier.length > 0) {
    const next: ResourceDefinition[] = [];
    for (const host of frontier)
      for (const slot of slots.filter((s) => s.host === host))
        for (const k of kinds)
          if (!reached.has(key(k)) && k.roles.includes(slot.role)) {
            reached.set(key(k), slot);
            next.push(k);
          }
    frontier = next;
  }
  return reached;
}

/** For each role some field expects, one such field whose kind the Entrypoint reaches (the nearest). */
export function slotPerRole(kinds: readonly ResourceDefinition[]): Map<string, Slot> {
  const reached = reachability(kinds);
  const depth = (k: ResourceDefinition): number => {
    const via = reached.get(key(k));
    return via ? 1 + depth(via.host) : 0;
  };
  const out = new Map<string, Slot>();
  for (const slot of referenceSlots(kinds)) {
    if (!reached.has(key(slot.host))) continue;
    const best = out.get(slot.role);
    const cost = (s: Slot) => depth(s.host) * 100 + s.path.length;
    if (!best || cost(slot) < cost(best)) out.set(slot.role, slot);
  }
  return out;
}

/** The kinds a configuration built by `Config.place` for `slot` holds on the way: its host and the links above. */
export function chainOf(slot: Slot, reached: Map<string, Slot | undefined>): ResourceDefinition[] {
  const out = [slot.host];
  for (let via = reached.get(key(slot.host)); via; via = reached.get(key(via.host))) out.push(via.host);
  return out;
}

/** `spec.<path>` as the loader reports it. */
export const fieldOf = (slot: Slot): string => formatPath(['spec', ...slot.path]);

/** The documents of one configuration, one per identity; specs hold only what was placed in them. */
export class Config {
  readonly #docs = new Map<string, Manifest<Json>>();

  /** The document for `definition` named `name`, created empty on first use. */
  doc(definition: ResourceDefinition, name: string): Manifest<Json> {
    const id = identityOf(definition, name);
    const k = `${key(id)}/${id.namespace}/${id.name}`;
    let d = this.#docs.get(k);
    if (!d) {
      d = { apiVersion: id.apiVersion, kind: id.kind, metadata: { name, namespace: 'default' }, spec: {} };
      this.#docs.set(k, d);
    }
    return d;
  }

  /**
   * Puts a reference to `target` in `slot`, in the host document named `name`, and links that host into the
   * Entrypoint through the fields `reached` says reach it (each link document named `name` too).
   */
  place(slot: Slot, target: Reference, reached: Map<string, Slot | undefined>, name: string): void {
    setAt(this.doc(slot.host, name).spec, slot.path, target);
    let host = slot.host;
    for (let via = reached.get(key(host)); via; via = reached.get(key(host))) {
      setAt(this.doc(via.host, name).spec, via.path, identityOf(host, name));
      host = via.host;
    }
    if (!reached.has(key(host))) throw new Error(`the Entrypoint cannot reach ${key(host)}`);
  }

  documents(): Manifest<Json>[] {
    return [...this.#docs.values()];
  }
}

/** Writes `value` at `path` inside `root`, creating the mappings and lists on the way (index 0 appends). */
function setAt(root: Json, path: FieldPath, value: unknown): void {
  let node: Json | unknown[] = root;
  for (const [i, part] of path.entries()) {
    const last = i === path.length - 1;
    const child: unknown = last ? value : typeof path[i + 1] === 'number' ? [] : {};
    if (Array.isArray(node)) {
      // A list item is a fresh one, so that two references in the same list field do not overwrite each other.
      node.push(child);
    } else if (last || !(part in node)) {
      node[part as string] = child;
    }
    if (!last) node = (Array.isArray(node) ? node.at(-1) : node[part as string]) as Json | unknown[];
  }
}
