/**
 * AILERON's MatchType (kernel MatcherSpec, aileron-core.md §7.1) compiled to plain functions at start-up:
 * Exact, Prefix, Suffix, Contains, Path and FilePath (Go `path.Match` globs), Regex and RegexPOSIX (both run as
 * JavaScript RegExp). Also Go's `Regexp.Expand` template syntax for path rewrites.
 *
 * Compiling throws a PatternError with a message a person can act on; callers turn it into a config problem.
 */

export const MatchTypes = [
  'Exact',
  'Prefix',
  'Suffix',
  'Contains',
  'Path',
  'FilePath',
  'Regex',
  'RegexPOSIX',
] as const;
export type MatchType = (typeof MatchTypes)[number];

export class PatternError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

export type StringTest = (s: string) => boolean;

/** One pattern of one match type as a test function. */
export function compileTest(type: MatchType, pattern: string): StringTest {
  switch (type) {
    case 'Exact':
      return (s) => s === pattern;
    case 'Prefix':
      return (s) => s.startsWith(pattern);
    case 'Suffix':
      return (s) => s.endsWith(pattern);
    case 'Contains':
      return (s) => s.includes(pattern);
    case 'Path':
    case 'FilePath': {
      const re = globToRegExp(pattern);
      return (s) => re.test(s);
    }
    case 'Regex':
    case 'RegexPOSIX': {
      const re = compileRegExp(pattern);
      return (s) => re.test(s);
    }
  }
}

/** Several patterns OR-ed (AILERON dedupes them; an empty list never matches). */
export function compileAny(type: MatchType, patterns: readonly string[]): StringTest {
  const tests = [...new Set(patterns)].map((p) => compileTest(type, p));
  if (tests.length === 0) return () => false;
  if (tests.length === 1) return tests[0]!;
  return (s) => {
    for (const t of tests) if (t(s)) return true;
    return false;
  };
}

/**
 * Go `path.Match` as an anchored RegExp: `*` is any run of non-`/` characters, `?` one non-`/` character,
 * `[...]` / `[^...]` a class with ranges, `\` escapes the next character. Malformed patterns are rejected,
 * as Go rejects them with ErrBadPattern.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '^';
  let i = 0;
  const bad = (why: string): never => {
    throw new PatternError(
      `invalid glob "${glob}": ${why}`,
      'write a Go path.Match pattern: * (any characters but /), ? (one character), [a-z] or [^a-z] classes, \\ to escape',
    );
  };
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*') {
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '\\') {
      if (i + 1 >= glob.length) bad('it ends with a lone \\');
      out += escapeRegExp(glob[i + 1]!);
      i += 2;
    } else if (c === '[') {
      i++;
      let cls = '[';
      if (glob[i] === '^') {
        cls += '^';
        i++;
      }
      let ranges = 0;
      for (;;) {
        if (i >= glob.length) bad('a [ class is not closed');
        if (glob[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        const lo = classChar();
        let item = escapeClassChar(lo);
        if (glob[i] === '-') {
          i++;
          const hi = classChar();
          if (hi < lo) bad(`range ${lo}-${hi} is reversed`);
          item += `-${escapeClassChar(hi)}`;
        }
        cls += item;
        ranges++;
      }
      out += `${cls}]`;
    } else {
      out += escapeRegExp(c);
      i++;
    }
  }
  return new RegExp(`${out}$`, 's');

  function classChar(): string {
    const ch = glob[i];
    if (ch === undefined) return bad('a [ class is not closed');
    if (ch === '-' || ch === ']') return bad(`"${ch}" must be escaped inside a [ class`);
    if (ch === '\\') {
      const next = glob[i + 1];
      if (next === undefined) return bad('it ends with a lone \\');
      i += 2;
      return next;
    }
    i++;
    return ch;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function escapeClassChar(c: string): string {
  return /[\]\\^-]/.test(c) ? `\\${c}` : c;
}

/**
 * A Go RE2 pattern as a JavaScript RegExp. RE2 syntax is nearly a subset of JavaScript's; the differences users
 * hit are translated: `(?P<name>...)` groups and leading flag groups such as `(?i)`. RegexPOSIX (leftmost-longest)
 * has no JavaScript equivalent and runs with the same leftmost-first semantics (docs/compatibility.md).
 */
export function compileRegExp(pattern: string, extraFlags = ''): RegExp {
  // RE2-only spellings: (?P<name>...) groups, \A and \z anchors.
  let source = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '(?![\\s\\S])');
  let flags = extraFlags;
  const lead = /^\(\?([imsU]+)\)/.exec(source);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U')
        throw new PatternError(
          `regular expression "${pattern}" uses the (?U) flag`,
          'JavaScript has no ungreedy mode; write lazy quantifiers such as .*? instead',
        );
      if (!flags.includes(f)) flags += f;
    }
    source = source.slice(lead[0].length);
  }
  try {
    return new RegExp(source, flags);
  } catch (err) {
    // Some RE2 escapes (\pL and friends) need the Unicode flag in JavaScript.
    try {
      return new RegExp(source, `${flags}u`);
    } catch {
      throw new PatternError(
        `invalid regular expression "${pattern}": ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`,
        'check the syntax (JavaScript RegExp, which accepts the common RE2 syntax)',
      );
    }
  }
}

type TemplatePart = string | { readonly group: number | string };

/**
 * Go's `Regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$` for a literal `$`. As in Go, `$name`
 * takes the longest run of letters, digits and `_` (so `$1x` means the group named `1x`, which is empty: write
 * `${1}x`), an unknown group expands to nothing, and a malformed `$` is kept as text.
 */
export function compileTemplate(template: string): (m: RegExpExecArray) => string {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < template.length; ) {
    const c = template[i]!;
    if (c !== '$') {
      text += c;
      i++;
      continue;
    }
    if (template[i + 1] === '$') {
      text += '$';
      i += 2;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (template[i + 1] === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^\w+$/.test(inner)) {
        name = inner;
        end = close + 1;
      }
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + 1 + name.length;
      }
    }
    if (name === undefined) {
      text += '$';
      i++;
      continue;
    }
    if (text) parts.push(text);
    text = '';
    parts.push({ group: /^\d+$/.test(name) ? Number(name) : name });
    i = end;
  }
  if (text) parts.push(text);
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const only = parts[0];
    return () => only;
  }
  return (m) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else if (typeof p.group === 'number') out += m[p.group] ?? '';
      else out += m.groups?.[p.group] ?? '';
    }
    return out;
  };
}
