/**
 * The `Authorization: Digest` parameters (RFC 7616 §3.4, RFC 9110 §11.2 auth-param syntax): the scheme (any case),
 * then comma-separated `name=value` pairs, each value a token or a quoted string with backslash escapes. AILERON
 * splits on every comma, so a quoted value holding a comma (a URI with a query) broke; this parses the grammar.
 * Names are lower-cased. Undefined for anything malformed, and for a parameter given twice.
 */
const Scheme = /^[Dd][Ii][Gg][Ee][Ss][Tt] +/;
const TokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** The longest header parsed (Node's header limit is 16 KiB; a Digest header is a few hundred bytes). */
export const MaxDigestHeader = 8192;

export function parseDigest(header: string | undefined): Map<string, string> | undefined {
  if (header === undefined || header.length > MaxDigestHeader) return undefined;
  const m = Scheme.exec(header);
  if (m === null) return undefined;
  const params = new Map<string, string>();
  let i = m[0].length;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  for (;;) {
    skipSpace();
    const nameStart = i;
    while (i < n && TokenChar.test(header[i]!)) i++;
    if (i === nameStart) return undefined;
    const name = header.slice(nameStart, i).toLowerCase();
    skipSpace();
    if (header[i] !== '=') return undefined;
    i++;
    skipSpace();
    let value = '';
    if (header[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return undefined;
        const c = header[i]!;
        if (c === '"') break;
        if (c === '\\') {
          i++;
          if (i >= n) return undefined;
        }
        const ch = header[i]!;
        // Control characters are not allowed in a quoted string (HTAB is).
        if (ch < ' ' && ch !== '\t') return undefined;
        value += ch;
        i++;
      }
      i++;
    } else {
      const start = i;
      while (i < n && TokenChar.test(header[i]!)) i++;
      if (i === start) return undefined;
      value = header.slice(start, i);
    }
    if (params.has(name)) return undefined;
    params.set(name, value);
    skipSpace();
    if (i >= n) return params;
    if (header[i] !== ',') return undefined;
    i++;
  }
}
