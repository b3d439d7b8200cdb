/**
 * Writes XML as AILERON's responses look: the `<?xml version="1.0" encoding="UTF-8"?>` line, then elements
 * indented by two spaces, text inline (`<a>text</a>`), empty elements as `<a></a>`. Names are checked (a JSON key
 * that is not an XML name is an error, never broken XML), text and attribute values escaped, characters XML
 * cannot carry replaced by U+FFFD.
 */

export const XMLHeader = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** A JSON document that cannot be written as XML: the message says why. */
export class XMLWriteError extends Error {
  override readonly name = 'XMLWriteError';
}

// XML 1.0 Name (fifth edition), with ':' allowed anywhere after the first character, as prefixes need.
const NameStart =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NameRe = new RegExp(`^[${NameStart}][${NameStart}:\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*$`);

const checkedNames = new Map<string, boolean>();

export function checkName(name: string, what: string): string {
  let ok = checkedNames.get(name);
  if (ok === undefined) {
    ok = NameRe.test(name);
    // Bounded: names come from upstream responses.
    if (checkedNames.size < 4096) checkedNames.set(name, ok);
  }
  if (!ok) throw new XMLWriteError(`${what} ${JSON.stringify(name)} is not an XML name`);
  return name;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: characters XML cannot carry are replaced
const TextEscapes = /[&<>"'\t\r\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: characters XML cannot carry are replaced
const AttrEscapes = /[&<>"'\t\n\r\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g;
const Escaped: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};
const escapeChar = (c: string): string => Escaped[c] ?? '\uFFFD';

/** An XML writer with Go's encoding/xml indentation rules (AILERON indents with two spaces). */
export class XMLWriter {
  #out = XMLHeader;
  #depth = 0;
  #indentedIn = false;
  #newline = false;
  #open = '';

  /** Starts an element; attributes are `[name, value]` pairs, names checked by the caller. */
  start(name: string, attrs: ReadonlyArray<readonly [string, string]>): void {
    this.#closeStart();
    this.#indent(1);
    let s = `<${name}`;
    for (const [n, v] of attrs) s += ` ${n}="${v.replace(AttrEscapes, escapeChar)}"`;
    this.#out += s;
    this.#open = '>';
  }

  text(value: string): void {
    this.#closeStart();
    this.#out += value.replace(TextEscapes, escapeChar);
  }

  end(name: string): void {
    this.#closeStart();
    this.#indent(-1);
    this.#out += `</${name}>`;
  }

  toString(): string {
    return this.#out;
  }

  #closeStart(): void {
    if (this.#open !== '') {
      this.#out += this.#open;
      this.#open = '';
    }
  }

  /** Go's writeIndent: a new line and indentation before each tag, except an end tag right after its start's text. */
  #indent(delta: number): void {
    if (delta < 0) {
      this.#depth--;
      if (this.#indentedIn) {
        this.#indentedIn = false;
        return;
      }
      this.#indentedIn = false;
    }
    if (this.#newline) this.#out += '\n';
    else this.#newline = true;
    if (this.#depth > 0) this.#out += '  '.repeat(this.#depth);
    if (delta > 0) {
      this.#depth++;
      this.#indentedIn = true;
    }
  }
}
