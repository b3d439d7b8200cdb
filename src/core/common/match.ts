/**
 * Go pattern dialects used in AILERON configs, compiled to JavaScript RegExps once at start-up:
 * RE2 regular expressions (`regexp`), `path.Match` globs, and `Regexp.Expand` templates (`$1`, `${name}`).
 */

/**
 * Compiles an RE2 expression. The common syntax is shared with JavaScript; the RE2-only spellings are
 * translated: named groups `(?P<name>...)`, leading flag groups `(?i)`/`(?s)`/`(?m)`, `\A` and `\z`.
 * Throws a SyntaxError with the engine's message when the pattern is invalid.
 */
export function goRegExp(pattern: string, extraFlags = ''): RegExp {
  let source = pattern;
  let flags = extraFlags;
  const lead = /^\(\?([imsU]+)\)/.exec(source);
  if (lead) {
    if (lead[1]!.includes('U'))
      throw new SyntaxError(
        'the RE2 flag U (ungreedy) has no JavaScript equivalent; write lazy quantifiers (*?)',
      );
    for (const f of lead[1]!) if (!flags.includes(f)) flags += f;
    source = source.slice(lead[0].length);
  }
  source = source
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '(?![\\s\\S])');
  return new RegExp(source, flags);
}

/**
 * Compiles a Go `path.Match` glob: `*` any run of non-`/` characters, `?` one non-`/` character, `[...]`
 * classes (`[^...]` negated), `\` escapes. The whole string must match. Throws on a malformed class.
 */
export function globRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= glob.length) throw new SyntaxError('pattern ends with a backslash');
      out += escapeRegExp(glob[i]!);
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new SyntaxError(`unclosed [ in ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      out += `[${negated ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`${out}$`);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A compiled `Regexp.Expand` template: literal text and group references. */
export type Expansion = (match: RegExpExecArray) => string;

/**
 * Compiles a Go expansion template: `$1`, `${1}`, `$name`, `${name}`, `$$` for a dollar. As in Go, `$name` takes
 * the longest run of letters, digits and underscores, and a reference to a group that does not exist is empty.
 */
export function compileExpansion(template: string): Expansion {
  const parts: Array<string | number | { name: string }> = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$') {
      literal += c;
      continue;
    }
    if (template[i + 1] === '$') {
      literal += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    let end = i;
    if (template[i + 1] === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (/^\w+$/.test(inner)) {
        name = inner;
        end = close;
      }
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + m[0].length;
      }
    }
    if (name === undefined) {
      literal += c; // Go copies a malformed reference as it is
      continue;
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push(/^\d+$/.test(name) ? Number(name) : { name });
    i = end;
  }
  if (literal) parts.push(literal);
  return (m) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else if (typeof p === 'number') out += m[p] ?? '';
      else out += m.groups?.[p.name] ?? '';
    }
    return out;
  };
}
