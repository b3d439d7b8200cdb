/**
 * AILERON's kernel MatcherSpec, `{patterns, matchType}`: how app kinds say which strings (the request path, most
 * often) a rule applies to. The schema, its checks and its compilation to a test function, done at start-up;
 * per request a kind only calls the function. Patterns are OR-ed; a matcher without patterns never matches.
 * The match types and their syntax are the proxy's (one matching module for every kind).
 */
import type { FieldPath, SchemaProblem, Static } from '../../kernel/schema.ts';
import { Enum, Obj, Type } from '../../kernel/schema.ts';
import { compileAny, compileTest, MatchTypes, PatternError, type StringTest } from './match.ts';

export type { StringTest };

export const MatchTypeSpec = Enum(MatchTypes, {
  default: 'Exact',
  description: 'Exact, Prefix, Suffix, Contains, Path, FilePath, Regex or RegexPOSIX',
});

export const MatcherSpec = Obj(
  {
    patterns: Type.Array(Type.String(), {
      default: [],
      uniqueItems: true,
      description: 'OR-ed, in the syntax of matchType; none = never matches',
    }),
    matchType: MatchTypeSpec,
  },
  { description: 'which request paths match: patterns and how they are read' },
);
export type MatcherSpec = Static<typeof MatcherSpec>;

/** The matcher as one test function. Call `matcherProblems` first (in the kind's `validate`). */
export function compileMatcher(spec: MatcherSpec): StringTest {
  return compileAny(spec.matchType, spec.patterns);
}

/** A problem for each pattern that does not compile (a malformed glob or regular expression), at its field. */
export function matcherProblems(spec: MatcherSpec, field: FieldPath): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  spec.patterns.forEach((pattern, i) => {
    try {
      compileTest(spec.matchType, pattern);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      problems.push({ path: [...field, 'patterns', i], message: err.message, hint: err.hint });
    }
  });
  return problems;
}
