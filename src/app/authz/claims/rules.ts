/**
 * The rules of ClaimsAuthzMiddleware, compiled once at start-up: which requests a rule applies to (path matcher,
 * methods) and what it requires of the authenticated claims (claim values, scopes, roles; any or all). Per request
 * the first rule that applies decides; none applies = the `unmatched` action.
 */
import { types } from 'node:util';
import type { StringTest } from '../../../core/common/matcherspec.ts';

/** What a requirement asks of a set of values: at least one of `anyOf` (if any), and every one of `allOf`. */
export interface ValueTest {
  readonly anyOf: readonly string[];
  readonly allOf: readonly string[];
}

export interface ClaimRequirement extends ValueTest {
  /** Where the values are: dotted paths into the claims (`attrs.scope`); the first that exists is used. */
  readonly paths: readonly (readonly string[])[];
  /** Whether a string value is a space-separated list (OAuth's `scope`). */
  readonly splitSpaces: boolean;
  /** For messages: the claim as configured. */
  readonly name: string;
}

export interface CompiledRule {
  /** The rule's position, for logs (`rules[2]`). */
  readonly index: number;
  /** Undefined = every path. */
  readonly path: StringTest | undefined;
  /** Empty = every method. */
  readonly methods: ReadonlySet<string>;
  /** Lets requests through without authentication and without checking requirements. */
  readonly anonymous: boolean;
  readonly requirements: readonly ClaimRequirement[];
}

/** Where the `scopes` and `roles` shorthands look, in order (JWT/OAuth, Keycloak, and the Basic/Key attrs). */
export const ScopeClaims = ['scope', 'scp', 'attrs.scope'];
export const RoleClaims = ['roles', 'realm_access.roles', 'attrs.roles'];

/** The first rule that applies to `method` and `path` (undefined path: a path no rule may match). */
export function ruleFor(
  rules: readonly CompiledRule[],
  method: string,
  path: string | undefined,
): CompiledRule | undefined {
  if (path === undefined) return undefined;
  for (const rule of rules) {
    if (rule.methods.size > 0 && !rule.methods.has(method)) continue;
    if (rule.path !== undefined && !rule.path(path)) continue;
    return rule;
  }
  return undefined;
}

/** The requirement that `claims` fail, or undefined when they meet every one. */
export function unmet(rule: CompiledRule, claims: unknown): ClaimRequirement | undefined {
  for (const requirement of rule.requirements) {
    const values = valuesAt(claims, requirement);
    if (values === undefined || !passes(requirement, values)) return requirement;
  }
  return undefined;
}

function passes(test: ValueTest, values: ReadonlySet<string>): boolean {
  if (test.anyOf.length > 0 && !test.anyOf.some((v) => values.has(v))) return false;
  for (const v of test.allOf) if (!values.has(v)) return false;
  // Neither list: the claim must be there with a value.
  return test.anyOf.length > 0 || test.allOf.length > 0 || values.size > 0;
}

/** The values of the first of the requirement's paths that exists in `claims`; undefined when none does. */
export function valuesAt(claims: unknown, requirement: ClaimRequirement): Set<string> | undefined {
  for (const path of requirement.paths) {
    const value = lookup(claims, path);
    if (value !== undefined) return valueSet(value, requirement.splitSpaces);
  }
  return undefined;
}

/** Own properties only: a claim path cannot reach `__proto__` or `constructor`. */
function lookup(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (types.isMap(current)) current = (current as Map<unknown, unknown>).get(key);
    else if (typeof current === 'object' && current !== null && Object.hasOwn(current, key))
      current = (current as Record<string, unknown>)[key];
    else return undefined;
  }
  return current === null ? undefined : current;
}

function valueSet(value: unknown, splitSpaces: boolean): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string') {
      if (splitSpaces) for (const part of v.split(' ')) part !== '' && out.add(part);
      else out.add(v);
    } else if (typeof v === 'number' || typeof v === 'boolean') out.add(String(v));
  };
  if (Array.isArray(value)) for (const v of value) add(v);
  else add(value);
  return out;
}
