/**
 * Contextual escaping of GoHTML templates, after Go's html/template, for the contexts a content template uses:
 * element text and RCDATA (`<title>`, `<textarea>`), quoted and unquoted attribute values, and URL attribute
 * values (`href`, `src`, ...: an unsafe scheme becomes `#ZgotmplZ`, the rest is normalised or query-escaped by
 * where the action stands in the URL). As html/template does, HTML comments are removed from the output and an
 * action inside one writes nothing, and the branches of `if`/`with`/`range` must end in the context they
 * started in.
 *
 * Not done (a start-up error naming the line instead of output that could be unsafe): actions inside `<script>`
 * or `<style>`, in event-handler (`on*`) or `style` attributes, in `srcset`, or between attributes (an action
 * writing attribute names). html/template escapes those for JavaScript and CSS.
 */
import { TemplateSyntaxError } from './lexer.ts';
import type { Node } from './parser.ts';
import { formatValue } from './print.ts';

type State =
  | 'text'
  | 'rcdata'
  | 'raw'
  | 'comment'
  | 'tag'
  | 'attrName'
  | 'afterName'
  | 'beforeValue'
  | 'attr';
type AttrType = 'normal' | 'url' | 'js' | 'css' | 'srcset';

interface Context {
  readonly state: State;
  /** The element whose tag or content we are in (lower case), '' for none or an end tag. */
  readonly element: string;
  readonly attr: AttrType;
  /** The attribute value's quote, or ' ' for an unquoted value. */
  readonly delim: string;
  /** In a URL attribute: 0 nothing yet, 1 before the query, 2 in the query or fragment. */
  readonly url: 0 | 1 | 2;
  /** The attribute name read so far (state attrName). */
  readonly name: string;
}

const TextContext: Context = { state: 'text', element: '', attr: 'normal', delim: '', url: 0, name: '' };
const key = (c: Context) => `${c.state}/${c.element}/${c.attr}/${c.delim}/${c.url}`;
const tag = (element: string): Context => ({ ...TextContext, state: 'tag', element });

const RawText = new Set(['script', 'style']);
const RCData = new Set(['textarea', 'title']);
const UrlAttrs = new Set([
  'action',
  'archive',
  'background',
  'cite',
  'classid',
  'codebase',
  'data',
  'formaction',
  'href',
  'icon',
  'longdesc',
  'manifest',
  'poster',
  'profile',
  'src',
  'usemap',
  'xmlns',
]);

function attrType(rawName: string): AttrType {
  let name = rawName.toLowerCase();
  const colon = name.indexOf(':');
  if (colon >= 0) {
    if (name.startsWith('xmlns')) return 'url';
    name = name.slice(colon + 1);
  }
  if (name.startsWith('data-')) name = name.slice(5);
  if (name.startsWith('on')) return 'js';
  if (name === 'style') return 'css';
  if (name === 'srcset') return 'srcset';
  if (UrlAttrs.has(name) || name.includes('src') || name.includes('uri') || name.includes('url'))
    return 'url';
  return 'normal';
}

const isWs = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';

/** Scans literal text from context `c`: the text to write (comments removed) and the context after it. */
function scan(text: string, start: Context): { text: string; context: Context } {
  let c = start;
  let out = '';
  let i = 0;
  while (i < text.length) {
    switch (c.state) {
      case 'text': {
        const j = text.indexOf('<', i);
        if (j < 0) {
          out += text.slice(i);
          i = text.length;
          break;
        }
        out += text.slice(i, j);
        if (text.startsWith('<!--', j)) {
          c = { ...TextContext, state: 'comment' };
          i = j + 4;
          break;
        }
        const m = /<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)/y;
        m.lastIndex = j;
        const t = m.exec(text);
        if (t) {
          out += t[0];
          i = j + t[0].length;
          c = tag(t[1] ? '' : t[2]!.toLowerCase());
        } else {
          out += '<';
          i = j + 1;
        }
        break;
      }
      case 'comment': {
        const j = text.indexOf('-->', i);
        if (j < 0) i = text.length;
        else {
          i = j + 3;
          c = TextContext;
        }
        break;
      }
      case 'rcdata':
      case 'raw': {
        const re = new RegExp(`</${c.element}(?=[\\s/>]|$)`, 'ig');
        re.lastIndex = i;
        const m = re.exec(text);
        if (!m) {
          out += text.slice(i);
          i = text.length;
        } else {
          out += text.slice(i, m.index + m[0].length);
          i = m.index + m[0].length;
          c = tag('');
        }
        break;
      }
      case 'tag': {
        const ch = text[i]!;
        if (isWs(ch) || ch === '/') {
          out += ch;
          i++;
        } else if (ch === '>') {
          out += ch;
          i++;
          c = RawText.has(c.element)
            ? { ...TextContext, state: 'raw', element: c.element }
            : RCData.has(c.element)
              ? { ...TextContext, state: 'rcdata', element: c.element }
              : TextContext;
        } else c = { ...c, state: 'attrName', name: '' };
        break;
      }
      case 'attrName': {
        let j = i;
        while (j < text.length && !isWs(text[j]) && text[j] !== '=' && text[j] !== '>' && text[j] !== '/')
          j++;
        const name = c.name + text.slice(i, j);
        out += text.slice(i, j);
        i = j;
        c = i < text.length ? { ...c, state: 'afterName', attr: attrType(name), name: '' } : { ...c, name };
        break;
      }
      case 'afterName': {
        const ch = text[i]!;
        if (isWs(ch)) {
          out += ch;
          i++;
        } else if (ch === '=') {
          out += ch;
          i++;
          c = { ...c, state: 'beforeValue' };
        } else c = tag(c.element);
        break;
      }
      case 'beforeValue': {
        const ch = text[i]!;
        if (isWs(ch)) {
          out += ch;
          i++;
        } else if (ch === '"' || ch === "'") {
          out += ch;
          i++;
          c = { ...c, state: 'attr', delim: ch, url: 0 };
        } else if (ch === '>') c = tag(c.element);
        else c = { ...c, state: 'attr', delim: ' ', url: 0 };
        break;
      }
      case 'attr': {
        let j = i;
        if (c.delim === ' ') while (j < text.length && !isWs(text[j]) && text[j] !== '>') j++;
        else {
          j = text.indexOf(c.delim, i);
          if (j < 0) j = text.length;
        }
        const value = text.slice(i, j);
        out += value;
        if (c.attr === 'url' && value.length > 0)
          c = { ...c, url: /[?#]/.test(value) ? 2 : c.url === 0 ? 1 : c.url };
        i = j;
        if (j < text.length) {
          if (c.delim !== ' ') {
            out += c.delim;
            i++;
          }
          c = tag(c.element);
        }
        break;
      }
    }
  }
  return { text: out, context: c };
}

/** The escaper of an action in context `c`, or a start-up error for the contexts not supported. */
function escaperFor(c: Context, line: number): { escaper: string; after: Context } {
  const refuse = (where: string): never => {
    throw new TemplateSyntaxError(
      line,
      `GoHTML: an action ${where} is not supported (html/template would escape it for JavaScript or CSS); move the value into element text or a quoted attribute, or use GoText`,
    );
  };
  switch (c.state) {
    case 'text':
    case 'rcdata':
      return { escaper: 'html', after: c };
    case 'comment':
      return { escaper: 'drop', after: c };
    case 'raw':
      return refuse(`inside <${c.element}>`);
    case 'tag':
    case 'attrName':
    case 'afterName':
      return refuse('between the attributes of a tag');
    case 'beforeValue':
    case 'attr': {
      const attr =
        c.state === 'beforeValue' ? { ...c, state: 'attr' as const, delim: ' ', url: 0 as const } : c;
      if (attr.attr === 'js') return refuse('in an event-handler attribute (on...)');
      if (attr.attr === 'css') return refuse('in a style attribute');
      if (attr.attr === 'srcset') return refuse('in a srcset attribute');
      const html = attr.delim === ' ' ? 'nospace' : 'html';
      if (attr.attr !== 'url') return { escaper: html, after: attr };
      const url = attr.url === 0 ? 'urlfilter,urlnorm' : attr.url === 1 ? 'urlnorm' : 'urlesc';
      return { escaper: `${url},${html}`, after: attr };
    }
  }
}

function join(a: Context, b: Context, what: string, line: number): Context {
  if (key(a) !== key(b))
    throw new TemplateSyntaxError(line, `{{${what}}} branches end in different contexts`);
  return a;
}

function escapeList(list: Node[], start: Context): Context {
  let c = start;
  for (const node of list) {
    switch (node.kind) {
      case 'text': {
        const r = scan(node.text, c);
        node.text = r.text;
        c = r.context;
        break;
      }
      case 'action': {
        if (node.pipe.vars.length > 0) break; // a declaration writes nothing
        const { escaper, after } = escaperFor(c, node.line);
        node.escaper = escaper;
        c = after;
        break;
      }
      case 'if':
      case 'with': {
        const a = escapeList(node.list, c);
        const b = node.elseList ? escapeList(node.elseList, c) : c;
        c = join(a, b, node.kind, node.line);
        break;
      }
      case 'range': {
        // The body may run any number of times, the else branch instead: all must agree.
        join(escapeList(node.list, c), c, 'range', node.line);
        if (node.elseList) join(escapeList(node.elseList, c), c, 'range', node.line);
        break;
      }
      default:
        break;
    }
  }
  return c;
}

/** Decides the escaping of every action (and strips comments) in place; throws for unsupported contexts. */
export function escapeTemplate(list: Node[]): void {
  escapeList(list, TextContext);
}

const HtmlEscapes: Record<string, string> = {
  '\0': '\uFFFD',
  '"': '&#34;',
  '&': '&amp;',
  "'": '&#39;',
  '+': '&#43;',
  '<': '&lt;',
  '>': '&gt;',
};
const NospaceEscapes: Record<string, string> = {
  ...HtmlEscapes,
  '\0': '&#xfffd;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\v': '&#11;',
  '\f': '&#12;',
  '\r': '&#13;',
  ' ': '&#32;',
  '=': '&#61;',
  '`': '&#96;',
};

/** html/template's HTML escaper (which, unlike text/template's `html`, also escapes `+`). */
export function escapeHTMLText(s: string): string {
  return s.replace(/[\0"&'+<>]/g, (ch) => HtmlEscapes[ch]!);
}

function escapeNospace(s: string): string {
  return s.replace(/[\0\t\n\v\f\r "&'+<=>`]/g, (ch) => NospaceEscapes[ch]!);
}

/** The URL filter: a scheme other than http, https and mailto is replaced (Go's `#ZgotmplZ`). */
function urlFilter(s: string): string {
  const colon = s.indexOf(':');
  if (colon >= 0 && !s.slice(0, colon).includes('/')) {
    const scheme = s.slice(0, colon).toLowerCase();
    if (scheme !== 'http' && scheme !== 'https' && scheme !== 'mailto') return '#ZgotmplZ';
  }
  return s;
}

/** Percent-encodes what a URL may not hold; `normalize` keeps reserved characters and existing escapes. */
function urlProcess(s: string, normalize: boolean): string {
  let out = '';
  for (const byte of Buffer.from(s)) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(ch) || (normalize && /[!#$&*+,/:;=?@[\]%]/.test(ch))) out += ch;
    else out += `%${byte.toString(16).padStart(2, '0')}`; // lower case, as html/template writes it
  }
  return out;
}

const Escapers: Record<string, (s: string) => string> = {
  html: escapeHTMLText,
  nospace: escapeNospace,
  urlfilter: urlFilter,
  urlnorm: (s) => urlProcess(s, true),
  urlesc: (s) => urlProcess(s, false),
};

/**
 * Writes an action's value with its escaper (html/template's: a missing value or nil writes nothing, anything else
 * is printed as Go's fmt does and escaped).
 */
export function writeEscaped(value: unknown, escaper: string | undefined): string {
  if (escaper === 'drop') return '';
  let s = typeof value === 'string' ? value : value === undefined || value === null ? '' : formatValue(value);
  for (const name of (escaper ?? 'html').split(',')) s = Escapers[name]!(s);
  return s;
}
