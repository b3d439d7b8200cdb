/**
 * Go pattern dialects used in AILERON configs, compiled once at start-up into JavaScript RegExps and plain
 * functions: RE2 regular expressions (Go `regexp`), `path.Match` globs, `Regexp.Expand` templates (`$1`,
 * `${name}`), and AILERON's MatchType (kernel MatcherSpec, aileron-core.md §7.1). Every kind that matches strings
 * uses this module, so a pattern means the same thing wherever it is written.
 *
 * Compiling throws a PatternError with a message and a hint a person can act on; callers turn it into a config
 * problem with the file, line and field.
 */

export class PatternError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'PatternError';
    this.hint = hint;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// MatchType

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

export type StringTest = (s: string) => boolean;

/**
 * One pattern of one match type as a test function. Path and FilePath are Go `path.Match` globs; Regex and
 * RegexPOSIX are RE2 expressions (RegexPOSIX runs leftmost-first too: JavaScript has no leftmost-longest engine).
 */
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
      const re = globRegExp(pattern);
      return (s) => re.test(s);
    }
    case 'Regex':
    case 'RegexPOSIX': {
      const re = goRegExp(pattern);
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

// ---------------------------------------------------------------------------------------------------------------
// Globs

/**
 * Go `path.Match` as an anchored RegExp: `*` is any run of non-`/` characters, `?` one non-`/` character,
 * `[...]` / `[^...]` a class with ranges, `\` escapes the next character. The whole string must match.
 * Malformed patterns are rejected, as Go rejects them with ErrBadPattern. Characters are code points, as Go's
 * runes are (the `u` flag).
 */
export function globRegExp(glob: string): RegExp {
  let out = '^';
  let i = 0;
  function bad(why: string): never {
    throw new PatternError(
      `invalid glob ${JSON.stringify(glob)}: ${why}`,
      'write a Go path.Match pattern: * (any characters but /), ? (one character), [a-z] or [^a-z] classes, \\ to escape',
    );
  }
  const next = (): string => {
    const cp = glob.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    return ch;
  };
  const classChar = (): string => {
    const ch = glob[i];
    if (ch === undefined) return bad('a [ class is not closed');
    if (ch === '-' || ch === ']') return bad(`"${ch}" must be escaped inside a [ class`);
    if (ch === '\\') {
      i++;
      if (i >= glob.length) return bad('it ends with a lone \\');
    }
    return next();
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
      i++;
      if (i >= glob.length) bad('it ends with a lone \\');
      out += literalSource(next().codePointAt(0)!);
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
        const lo = classChar().codePointAt(0)!;
        let item = classCharSource(lo);
        if (glob[i] === '-') {
          i++;
          const hi = classChar().codePointAt(0)!;
          if (hi < lo) bad(`range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)} is reversed`);
          item += `-${classCharSource(hi)}`;
        }
        cls += item;
        ranges++;
      }
      out += `${cls}]`;
    } else {
      out += literalSource(next().codePointAt(0)!);
    }
  }
  return new RegExp(`${out}$`, 'u');
}

/** Text as a RegExp source that matches it literally (with or without the `u` flag). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------------------------
// Expansion templates

/** A compiled `Regexp.Expand` template: literal text and group references. */
export type Expansion = (match: RegExpExecArray) => string;

type TemplatePart = string | { readonly group: number | string };

/**
 * Go's `Regexp.Expand` template: `$1`, `${1}`, `$name`, `${name}`, `$$` for a literal `$`. As in Go, `$name`
 * takes the longest run of letters, digits and `_` (so `$1x` means the group named `1x`, which is empty: write
 * `${1}x`), an unknown group expands to nothing, and a malformed `$` is kept as text.
 */
export function compileExpansion(template: string): Expansion {
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
  if (parts.length === 0) return () => '';
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

// ---------------------------------------------------------------------------------------------------------------
// RE2 regular expressions

/**
 * Compiles a Go RE2 expression to a JavaScript RegExp with the same meaning. The pattern is parsed as Go's
 * `regexp/syntax` parses it and written out again for JavaScript, translating what the two dialects spell or mean
 * differently. It runs with the `v` flag: `.` is one code point like Go's rune, and under `(?i)` a negated class
 * (`\PL`, `[^a-z]`, `[[:^lower:]]`) is folded before it is negated, as Go does.
 * Translated:
 * - `(?P<name>...)`, `(?flags)` and `(?flags:...)` anywhere (i, m, s, U; `-` to clear), `\A`, `\z`, `\Q...\E`,
 *   `\x{10FFFF}`, octal `\123`, `\a`, Unicode classes `\pL`, `\p{Greek}`, `\PN`, `\p{^Han}`, POSIX classes
 *   `[[:alpha:]]` and `[[:^digit:]]`, literal `{` where it is not a repetition;
 * - the meanings: `.` is any character but `\n` (without `s`), `^`/`$` with `m` are about `\n` only, `\s` is
 *   `[\t\n\f\r ]`, `(?U)` swaps greedy and lazy quantifiers.
 * What RE2 refuses is refused, with a message naming the construct and a fix: lookarounds, backreferences,
 * `\C`, `\Z`, possessive and nested repetitions, counts above 1000, and JavaScript-only escapes such as `\u`.
 *
 * `extraFlags` may add `g` (replace-all callers). Throws a PatternError.
 */
export function goRegExp(pattern: string, extraFlags: '' | 'g' = ''): RegExp {
  const source = translateRE2(pattern);
  try {
    return new RegExp(source, `v${extraFlags}`);
  } catch (err) {
    // The translation only writes what JavaScript accepts; reaching this is a bug in it, still reported as a
    // config problem rather than a crash.
    throw new PatternError(
      `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`,
      'this pattern could not be translated for JavaScript; please report it, and rewrite it meanwhile',
    );
  }
}

interface Flags {
  /** Case-insensitive. */
  readonly i: boolean;
  /** Multi-line: `^` and `$` also match at `\n`. */
  readonly m: boolean;
  /** `.` matches `\n`. */
  readonly s: boolean;
  /** Ungreedy: `x*` is lazy and `x*?` greedy. */
  readonly U: boolean;
}

interface Group {
  /** JavaScript source written inside the group so far. */
  out: string;
  /** What opened the group in JavaScript (`(`, `(?:`, `(?<name>`, `(?i:`, `(?-i:`); empty at the top level. */
  readonly open: string;
  /** Flags before the group, restored at its `)` (Go's parseRightParen). */
  readonly outer: Flags;
  /** Flags at the start of the group, to restore the `i` state after a `|`. */
  readonly inner: Flags;
  /** `(?i)` / `(?-i)` modifiers opened since the last `|`, closed at the next `|` and at the group's end. */
  modifiers: number;
  /** Start in `out` of the atom a quantifier would repeat; -1 when there is none. */
  atom: number;
  /** That atom cannot be quantified as it is in JavaScript (an assertion, or already quantified). */
  atomNeedsGroup: boolean;
  /** The last token was a repetition: RE2 refuses a second one (`a**`, `a*+`). */
  repeated: boolean;
}

/** RE2's limits (Go's maxRepeat and maxHeight). */
const MaxRepeat = 1000;
const MaxNesting = 1000;

const EscapesHint =
  'RE2 escapes are \\d \\D \\s \\S \\w \\W \\b \\B \\A \\z \\pL \\p{Greek} \\PL \\Q...\\E \\x41 \\x{263A} \\123 \\a \\f \\t \\n \\r \\v, and \\ before punctuation';
const GroupsHint = 'RE2 groups are (...), (?:...), (?P<name>...), (?<name>...), (?flags) and (?flags:...)';

function translateRE2(pattern: string): string {
  const noFlags: Flags = { i: false, m: false, s: false, U: false };
  let flags = noFlags;
  const stack: Group[] = [newGroup('', noFlags, noFlags)];
  const names = new Set<string>();
  let i = 0;

  const top = () => stack[stack.length - 1]!;
  /** Appends an atom (something a quantifier may follow). */
  const atom = (source: string, needsGroup = false) => {
    const g = top();
    g.atom = g.out.length;
    g.atomNeedsGroup = needsGroup;
    g.repeated = false;
    g.out += source;
  };
  const setFlags = (next: Flags) => {
    const g = top();
    if (next.i !== flags.i) {
      g.out += next.i ? '(?i:' : '(?-i:';
      g.modifiers++;
      // Go would repeat the atom before the modifier (`a(?i)*` is `a*`); a quantifier here is refused instead.
      g.atom = -1;
    }
    g.repeated = false;
    flags = next;
  };
  const closeModifiers = (g: Group) => {
    g.out += ')'.repeat(g.modifiers);
    g.modifiers = 0;
  };

  while (i < pattern.length) {
    const c = pattern[i]!;
    switch (c) {
      case '(': {
        if (stack.length > MaxNesting) fail('groups are nested too deeply', 'RE2 allows 1000 levels');
        if (pattern[i + 1] !== '?') {
          stack.push(newGroup('(', flags, flags));
          i++;
          break;
        }
        i = openSpecialGroup(i);
        break;
      }
      case '|': {
        const g = top();
        closeModifiers(g);
        g.out += '|';
        // Flags set by (?flags) last to the end of the group, across `|` (Go keeps p.flags).
        if (flags.i !== g.inner.i) {
          g.out += flags.i ? '(?i:' : '(?-i:';
          g.modifiers = 1;
        }
        g.atom = -1;
        g.repeated = false;
        i++;
        break;
      }
      case ')': {
        if (stack.length === 1) fail('unexpected )', 'remove it, or write \\) for a literal parenthesis');
        const g = stack.pop()!;
        closeModifiers(g);
        flags = g.outer;
        atom(`${g.open}${g.out})`);
        i++;
        break;
      }
      case '^':
        atom(flags.m ? '(?<![^\\n])' : '^', true);
        i++;
        break;
      case '$':
        atom(flags.m ? '(?![^\\n])' : '$', true);
        i++;
        break;
      case '.':
        atom(flags.s ? '[^]' : '[^\\n]');
        i++;
        break;
      case '[':
        i = parseClass(i);
        break;
      case '*':
      case '+':
      case '?':
        i = repeat(i, c, i + 1);
        break;
      case '{': {
        const r = parseRepeat(i);
        if (!r) {
          atom('\\{'); // not a repetition: a literal brace, as in Go
          i++;
          break;
        }
        if (r.min > MaxRepeat || r.max > MaxRepeat || (r.max >= 0 && r.min > r.max)) {
          fail(
            `invalid repeat count ${pattern.slice(i, r.end)}`,
            `RE2 allows counts up to ${MaxRepeat}, with the smaller first; use * or + for no upper bound`,
          );
        }
        const text = r.max === r.min ? `{${r.min}}` : r.max < 0 ? `{${r.min},}` : `{${r.min},${r.max}}`;
        i = repeat(i, text, r.end);
        break;
      }
      case '\\':
        i = parseTopEscape(i);
        break;
      default: {
        const cp = pattern.codePointAt(i)!;
        atom(literalSource(cp));
        i += cp > 0xffff ? 2 : 1;
      }
    }
  }
  if (stack.length > 1) fail('missing closing )', 'close every ( with a )');
  const g = stack[0]!;
  closeModifiers(g);
  return g.out;

  function fail(what: string, hint: string): never {
    throw new PatternError(`invalid regular expression ${JSON.stringify(pattern)}: ${what}`, hint);
  }

  function newGroup(open: string, outer: Flags, inner: Flags): Group {
    return { out: '', open, outer, inner, modifiers: 0, atom: -1, atomNeedsGroup: false, repeated: false };
  }

  /** A quantifier `op` (`*`, `+`, `?`, `{n,m}`) written at `start`, its text ending at `end`. */
  function repeat(start: number, op: string, end: number): number {
    let lazy = false;
    let after = end;
    if (pattern[after] === '?') {
      lazy = true;
      after++;
    }
    const g = top();
    const written = pattern.slice(start, after);
    if (g.repeated) {
      fail(
        `invalid nested repetition operator ${written}`,
        'RE2 has no possessive quantifiers and does not stack them: write one quantifier, or group the repeated part (?:...)',
      );
    }
    if (g.atom < 0) {
      fail(
        `missing argument to repetition operator ${written}`,
        'put the quantifier after what it repeats, or write \\ before it for a literal character',
      );
    }
    if (g.atomNeedsGroup) g.out = `${g.out.slice(0, g.atom)}(?:${g.out.slice(g.atom)})`;
    g.out += op + (lazy !== flags.U ? '?' : '');
    g.atomNeedsGroup = true;
    g.repeated = true;
    return after;
  }

  /** `{n}`, `{n,}` or `{n,m}` at `start` (Go's parseRepeat); undefined when it is not one. */
  function parseRepeat(start: number): { min: number; max: number; end: number } | undefined {
    const m = /^\{(0|[1-9]\d*)(?:(,)(0|[1-9]\d*)?)?\}/.exec(pattern.slice(start));
    if (!m) return undefined;
    const num = (s: string) => (s.length > 8 ? Number.POSITIVE_INFINITY : Number(s));
    const min = num(m[1]!);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : num(m[3]);
    return { min, max, end: start + m[0].length };
  }

  /** A group starting with `(?`: flags, a non-capturing or named group, or something RE2 refuses. */
  function openSpecialGroup(start: number): number {
    const rest = pattern.slice(start);
    if (rest.startsWith('(?=') || rest.startsWith('(?!')) {
      fail(
        `lookahead ${rest.slice(0, 3)}...) is not supported`,
        'RE2 has no lookarounds (it matches in linear time): match the text itself, or use a second matcher',
      );
    }
    if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) {
      fail(
        `lookbehind ${rest.slice(0, 4)}...) is not supported`,
        'RE2 has no lookarounds (it matches in linear time): match the text itself, or use a second matcher',
      );
    }
    if (rest.startsWith('(?P=') || rest.startsWith('(?P>')) {
      fail(
        `${rest.slice(0, 4)}name) (backreference or recursion) is not supported`,
        'RE2 has no backreferences: repeat the group’s pattern instead',
      );
    }
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named) {
      const name = named[1]!;
      if (!/^\w+$/.test(name)) {
        fail(`invalid group name ${JSON.stringify(name)}`, 'group names are letters, digits and _');
      }
      if (/^\d/.test(name)) {
        fail(
          `group name ${JSON.stringify(name)} starts with a digit`,
          'JavaScript group names cannot start with a digit: rename the group (and its $name references)',
        );
      }
      if (names.has(name))
        fail(`duplicate group name ${JSON.stringify(name)}`, 'give each group its own name');
      names.add(name);
      stack.push(newGroup(`(?<${name}>`, flags, flags));
      return start + named[0].length;
    }
    if (rest.startsWith('(?P<') || rest.startsWith('(?<')) {
      fail('a named group without its closing >', 'write (?P<name>...) or (?<name>...)');
    }
    // Flags: (?flags) or (?flags:...), flags `[imsU]*` optionally followed by `-[imsU]+`.
    const m = /^\(\?([imsU]*)(?:-([imsU]+))?([:)])/.exec(rest);
    if (!m) {
      fail(`unsupported group ${rest.slice(0, 3)}`, GroupsHint);
    }
    const [text, on = '', off = '', end] = m;
    const next: Flags = {
      i: on.includes('i') || (flags.i && !off.includes('i')),
      m: on.includes('m') || (flags.m && !off.includes('m')),
      s: on.includes('s') || (flags.s && !off.includes('s')),
      U: on.includes('U') || (flags.U && !off.includes('U')),
    };
    if (end === ')') {
      setFlags(next);
    } else {
      const open = next.i === flags.i ? '(?:' : next.i ? '(?i:' : '(?-i:';
      stack.push(newGroup(open, flags, next));
      flags = next;
    }
    return start + text.length;
  }

  /** An escape outside a class. */
  function parseTopEscape(start: number): number {
    const e = pattern[start + 1];
    switch (e) {
      case 'A':
        atom('^', true);
        return start + 2;
      case 'z':
        atom('$', true);
        return start + 2;
      case 'b':
        atom('\\b', true);
        return start + 2;
      case 'B':
        atom('\\B', true);
        return start + 2;
      case 'Q': {
        const close = pattern.indexOf('\\E', start + 2);
        const text = pattern.slice(start + 2, close < 0 ? pattern.length : close);
        for (const ch of text) atom(literalSource(ch.codePointAt(0)!));
        return close < 0 ? pattern.length : close + 2;
      }
      case 'p':
      case 'P': {
        const u = parseUnicodeClass(start);
        atom(u.source);
        return u.end;
      }
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        atom(`\\${e}`);
        return start + 2;
      case 's':
        atom(`[${SpaceClass}]`);
        return start + 2;
      case 'S':
        atom(`[^${SpaceClass}]`);
        return start + 2;
    }
    const r = parseEscape(start, false);
    atom(literalSource(r.cp));
    return r.end;
  }

  /** An escape that stands for one character (Go's parseEscape). */
  function parseEscape(start: number, inClass: boolean): { cp: number; end: number } {
    const e = pattern.codePointAt(start + 1);
    if (e === undefined) fail('trailing backslash at end of expression', 'write \\\\ for a backslash');
    const c = String.fromCodePoint(e);
    const after = start + 1 + c.length;
    if (e < 0x80 && !/[0-9A-Za-z]/.test(c)) return { cp: e, end: after };
    if (/[0-7]/.test(c)) {
      // Octal: \0, or up to three digits; a single non-zero digit is a backreference.
      if (c !== '0' && !/[0-7]/.test(pattern[after] ?? '')) backreference(`\\${c}`);
      const m = /^[0-7]{1,3}/.exec(pattern.slice(start + 1))!;
      return { cp: Number.parseInt(m[0], 8), end: start + 1 + m[0].length };
    }
    switch (c) {
      case 'x': {
        const m = /^x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/.exec(pattern.slice(start + 1));
        const hex = m?.[1] ?? m?.[2];
        const cp = hex === undefined ? Number.NaN : Number.parseInt(hex, 16);
        if (!m || !(cp <= 0x10ffff)) {
          fail(
            `invalid escape ${pattern.slice(start, start + 4)}`,
            'write two hex digits (\\x41) or a code point in braces (\\x{263A}), at most \\x{10FFFF}',
          );
        }
        return { cp, end: start + 1 + m[0].length };
      }
      case 'a':
        return { cp: 7, end: after };
      case 'f':
        return { cp: 12, end: after };
      case 'n':
        return { cp: 10, end: after };
      case 'r':
        return { cp: 13, end: after };
      case 't':
        return { cp: 9, end: after };
      case 'v':
        return { cp: 11, end: after };
      case '8':
      case '9':
        return backreference(`\\${c}`);
      case 'k':
        return backreference('\\k<name>');
      case 'u':
        return fail('\\u is JavaScript syntax, not RE2', 'write the code point as \\x{263A}');
      case 'C':
        return fail('\\C (any byte) is not supported', 'use . for any character');
      case 'Z':
        return fail('\\Z is not RE2', 'write \\z for the end of the text (or $)');
      case 'b':
        if (inClass) return fail('[\\b] (backspace) is not RE2', 'write \\x08 for a backspace');
    }
    return fail(`invalid escape \\${c}`, EscapesHint);
  }

  function backreference(text: string): never {
    return fail(
      `backreference ${text} is not supported`,
      'RE2 has no backreferences (it matches in linear time): repeat the group’s pattern instead',
    );
  }

  /** `\pL`, `\p{Greek}`, `\PN`, `\p{^Han}` at `start`, as a JavaScript property escape. */
  function parseUnicodeClass(start: number): { source: string; end: number } {
    let negated = pattern[start + 1] === 'P';
    let name: string;
    let end: number;
    if (pattern[start + 2] === '{') {
      const close = pattern.indexOf('}', start + 3);
      if (close < 0) fail(`unclosed ${pattern.slice(start, start + 3)}`, 'write \\p{Name} with a closing }');
      name = pattern.slice(start + 3, close);
      end = close + 1;
    } else {
      const cp = pattern.codePointAt(start + 2);
      if (cp === undefined) fail(`${pattern.slice(start, start + 2)} without a class name`, UnicodeHint);
      name = String.fromCodePoint(cp);
      end = start + 2 + name.length;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const property = unicodeProperty(name);
    if (property === undefined) fail(`unknown Unicode class ${pattern.slice(start, end)}`, UnicodeHint);
    return { source: `\\${negated ? 'P' : 'p'}{${property}}`, end };
  }

  /** A bracket class at `start` (Go's parseClass). */
  function parseClass(start: number): number {
    let j = start + 1;
    let out = '[';
    if (pattern[j] === '^') {
      out += '^';
      j++;
    }
    let first = true; // `]` is a literal as the first character
    while (first || pattern[j] !== ']') {
      if (j >= pattern.length) {
        fail('missing closing ]', 'close the class with ], or write \\[ for a literal bracket');
      }
      first = false;
      if (pattern.startsWith('[:', j)) {
        const close = pattern.indexOf(':]', j + 2);
        if (close >= 0) {
          const spec = pattern.slice(j + 2, close);
          const negated = spec.startsWith('^');
          const ranges = PosixClasses[negated ? spec.slice(1) : spec];
          if (!ranges) {
            fail(
              `unknown POSIX class [:${spec}:]`,
              `POSIX classes are ${Object.keys(PosixClasses)
                .map((n) => `[:${n}:]`)
                .join(' ')}`,
            );
          }
          out += negated ? `[^${rangesSource(ranges)}]` : rangesSource(ranges);
          j = close + 2;
          continue;
        }
      }
      if (pattern[j] === '\\') {
        const e = pattern[j + 1];
        if (e === 'p' || e === 'P') {
          const u = parseUnicodeClass(j);
          out += u.source;
          j = u.end;
          continue;
        }
        if (e === 'd' || e === 'D' || e === 'w' || e === 'W') {
          out += `\\${e}`;
          j += 2;
          continue;
        }
        if (e === 's' || e === 'S') {
          out += e === 's' ? SpaceClass : `[^${SpaceClass}]`;
          j += 2;
          continue;
        }
      }
      const lo = classChar(j);
      j = lo.end;
      let hi = lo;
      // `[a-]` is a and -: a range needs something other than ] after the -.
      if (pattern[j] === '-' && j + 1 < pattern.length && pattern[j + 1] !== ']') {
        hi = classChar(j + 1);
        if (hi.cp < lo.cp) {
          fail(
            `invalid character class range ${pattern.slice(lo.start, hi.end)}`,
            'write the smaller character first, or \\- for a literal -',
          );
        }
        j = hi.end;
      }
      out += hi === lo ? classCharSource(lo.cp) : `${classCharSource(lo.cp)}-${classCharSource(hi.cp)}`;
    }
    atom(`${out}]`);
    return j + 1;
  }

  function classChar(start: number): { cp: number; start: number; end: number } {
    if (start >= pattern.length) {
      fail('missing closing ]', 'close the class with ], or write \\[ for a literal bracket');
    }
    if (pattern[start] === '\\') return { ...parseEscape(start, true), start };
    const cp = pattern.codePointAt(start)!;
    return { cp, start, end: start + (cp > 0xffff ? 2 : 1) };
  }
}

const UnicodeHint =
  'write a Unicode general category (\\pL, \\p{Lu}, \\p{Letter}), a script (\\p{Greek}, \\p{Han}) or \\p{Any}; \\P or \\p{^...} negates';

const propertyCache = new Map<string, string | undefined>();

/** The JavaScript property for a Go Unicode class name: Any, ASCII, Assigned, a general category or a script. */
function unicodeProperty(name: string): string | undefined {
  if (propertyCache.has(name)) return propertyCache.get(name);
  let found: string | undefined;
  const special = ['Any', 'ASCII', 'Assigned'].find((p) => p.toLowerCase() === name.toLowerCase());
  if (special) found = special;
  else if (/^\w+$/.test(name)) {
    for (const candidate of [`General_Category=${name}`, `Script=${name}`]) {
      try {
        new RegExp(`\\p{${candidate}}`, 'u');
        found = candidate;
        break;
      } catch {
        // not a value of this property
      }
    }
  }
  if (propertyCache.size < 1024) propertyCache.set(name, found);
  return found;
}

type Ranges = ReadonlyArray<readonly [number, number]>;

/** Go's `\s`: `[\t\n\f\r ]` (JavaScript's `\s` also has \v, NBSP and the Unicode spaces). */
const SpaceRanges: Ranges = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];
const SpaceClass = rangesSource(SpaceRanges);

/** Go's POSIX classes (regexp/syntax perl_groups.go): ASCII only. */
const PosixClasses: Record<string, Ranges> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

function rangesSource(ranges: Ranges): string {
  return ranges
    .map(([lo, hi]) => (lo === hi ? classCharSource(lo) : `${classCharSource(lo)}-${classCharSource(hi)}`))
    .join('');
}

/** One code point as RegExp source outside a class (valid with the `u` and `v` flags). */
function literalSource(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if ('^$\\.*+?()[]{}|/'.includes(ch)) return `\\${ch}`;
  if (cp >= 0x20 && cp < 0x7f) return ch;
  return `\\u{${cp.toString(16)}}`;
}

/** One code point as RegExp source inside a class (valid with the `u` and `v` flags: every symbol escaped). */
function classCharSource(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) {
    return String.fromCodePoint(cp);
  }
  return `\\u{${cp.toString(16)}}`;
}
