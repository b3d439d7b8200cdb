/**
 * Request matching for load balancers (aileron-core.md §6.4): path matchers that also rewrite the upstream path,
 * and header / query / path-parameter matchers. Everything is compiled once at start-up into closures; a request
 * costs string operations only.
 */
import {
  compileAny,
  compileExpansion,
  compileTest,
  goRegExp,
  type MatchType,
  type StringTest,
} from '../common/match.ts';

export interface PathMatcherConfig {
  readonly match: string;
  readonly matchType: MatchType;
  readonly rewrite: string;
  readonly trimPrefix: string;
  readonly appendPrefix: string;
}

/** Returns the upstream path for a matching request path, or undefined when the path does not match. */
export type PathMatcher = (path: string) => string | undefined;

/**
 * AILERON's algorithm: remove `trimPrefix` when present, test the rest, then (Regex types with a `rewrite`) expand
 * the template once per match and concatenate, dropping the text between matches; finally prepend `appendPrefix`.
 */
export function compilePathMatcher(c: PathMatcherConfig): PathMatcher {
  const { trimPrefix, appendPrefix } = c;
  const trim = (path: string) =>
    trimPrefix !== '' && path.startsWith(trimPrefix) ? path.slice(trimPrefix.length) : path;
  if ((c.matchType === 'Regex' || c.matchType === 'RegexPOSIX') && c.rewrite !== '') {
    const test = goRegExp(c.match);
    const all = goRegExp(c.match, 'g');
    const expand = compileExpansion(c.rewrite);
    return (path) => {
      const t = trim(path);
      if (!test.test(t)) return undefined;
      let out = '';
      let prevEnd = -1;
      all.lastIndex = 0;
      for (let m = all.exec(t); m !== null; m = all.exec(t)) {
        // Go drops an empty match that touches the previous match; JavaScript reports it.
        if (m[0] !== '' || m.index !== prevEnd) out += expand(m);
        prevEnd = m.index + m[0].length;
        // An empty match must not loop forever: step over one code point (the RegExp has the `u` flag).
        if (m[0] === '') all.lastIndex += (t.codePointAt(all.lastIndex) ?? 0) > 0xffff ? 2 : 1;
      }
      return appendPrefix + out;
    };
  }
  const test = compileTest(c.matchType, c.match);
  if (trimPrefix === '' && appendPrefix === '') return (path) => (test(path) ? path : undefined);
  return (path) => {
    const t = trim(path);
    return test(t) ? appendPrefix + t : undefined;
  };
}

/** Several path matchers OR-ed: the first that matches decides the upstream path. */
export function firstPathMatch(matchers: readonly PathMatcher[]): PathMatcher {
  if (matchers.length === 1) return matchers[0]!;
  return (path) => {
    for (const m of matchers) {
      const r = m(path);
      if (r !== undefined) return r;
    }
    return undefined;
  };
}

export interface ParamMatcherConfig {
  readonly key: string;
  readonly patterns: readonly string[];
  readonly matchType: MatchType;
}

/** A compiled key/value condition; `value` is undefined when the key is absent (which never matches). */
export interface ParamTest {
  readonly key: string;
  readonly test: StringTest;
}

export function compileParamMatcher(c: ParamMatcherConfig): ParamTest {
  return { key: c.key, test: compileAny(c.matchType, c.patterns) };
}

/** All values of a request header (case-insensitive name, lower-cased here) joined with `,`, from raw headers. */
export function rawHeaderValue(raw: readonly string[], lowerName: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === lowerName.length && k.toLowerCase() === lowerName) {
      out = out === undefined ? raw[i + 1]! : `${out},${raw[i + 1]!}`;
    }
  }
  return out;
}

/** The first value of a request header, as Go's `Header.Get`. */
export function rawHeaderFirst(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === lowerName.length && k.toLowerCase() === lowerName) return raw[i + 1]!;
  }
  return undefined;
}
