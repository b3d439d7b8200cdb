/**
 * Where credentials come from (AILERON's providers, aileron-app.md §1.2): files of lines, or environment
 * variables. Read once at start-up into a table; the values are decoded (`encoding`) there too.
 *
 * File lines: `name:secret[:attrs]` (Basic, Digest: user and password; IDKey: id and key) or `key[:attrs]` (Key),
 * where attrs is a JSON object. Lines are trimmed; empty lines and `#` comments are skipped. A duplicate name, a
 * line without `:` (pairs) or attrs that are not a JSON object are start-up errors at `file:line`. **No message
 * ever quotes a line**: they hold secrets.
 *
 * Environment: pairs `<namePrefix><n>` + `<secretPrefix><n>` joined by the integer n (`01` = `1`), unpaired or empty
 * ones skipped; keys: every variable whose name starts with the prefix.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decode, type Encoding } from './encoding.ts';

/** One stored credential: its name (user, id or key text), its decoded secret and the attributes of its line. */
export interface StoredCredential {
  readonly name: string;
  readonly secret: Buffer;
  readonly attrs: Readonly<Record<string, unknown>> | undefined;
  /** Where it was defined, for messages: `file:line` or the environment variable. */
  readonly source: string;
}

/** A problem with the credentials, located at a field of the spec (`fileProvider.paths[i]`, `envProvider`). */
export class CredentialError extends Error {
  readonly field: readonly (string | number)[];
  readonly hint: string | undefined;
  constructor(field: readonly (string | number)[], message: string, hint?: string) {
    super(message);
    this.field = field;
    this.hint = hint;
  }
}

/** The largest credential file read (a list of users is small; a huge file is a wrong path). */
export const MaxCredentialFileBytes = 16 * 1024 * 1024;

export type LineShape = 'pair' | 'key';

/**
 * Parses the text of one credential file. `file` names it in messages. Throws a CredentialError (with `field`)
 * at the first bad line.
 */
export function parseCredentialText(
  text: string,
  shape: LineShape,
  encoding: Encoding,
  file: string,
  field: readonly (string | number)[],
  into: Map<string, StoredCredential> = new Map(),
): Map<string, StoredCredential> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^[ \t\r\f\n]+|[ \t\r\f\n]+$/g, '');
    if (line === '' || line.startsWith('#')) continue;
    const at = `${file}:${i + 1}`;
    let name: string;
    let rest: string;
    if (shape === 'pair') {
      const colon = line.indexOf(':');
      if (colon < 0)
        throw new CredentialError(
          field,
          `${at}: the line has no ":" between the name and its secret`,
          'write name:secret[:{"json":"attributes"}]',
        );
      name = line.slice(0, colon);
      rest = line.slice(colon + 1);
    } else {
      name = '';
      rest = line;
    }
    const colon = rest.indexOf(':');
    const secretText = colon < 0 ? rest : rest.slice(0, colon);
    const attrsText = colon < 0 ? '' : rest.slice(colon + 1);
    if (shape === 'key') name = secretText;
    add(into, { name, secretText, attrsText, source: at, encoding, field });
  }
  return into;
}

function add(
  into: Map<string, StoredCredential>,
  entry: {
    name: string;
    secretText: string;
    attrsText: string;
    source: string;
    encoding: Encoding;
    field: readonly (string | number)[];
  },
): void {
  const { name, source, field } = entry;
  if (entry.secretText === '') throw new CredentialError(field, `${source}: the secret is empty`);
  const previous = into.get(name);
  if (previous !== undefined)
    throw new CredentialError(
      field,
      // A key is a secret: its duplicate is named by where it is, never by its text.
      `${source}: duplicate ${entry.name === entry.secretText ? 'key' : `name "${printable(name)}"`}, first defined at ${previous.source}`,
    );
  const secret = decode(entry.encoding, entry.secretText);
  if (secret === undefined)
    throw new CredentialError(
      field,
      `${source}: the secret is not valid ${entry.encoding}`,
      'check the encoding field, or the value',
    );
  let attrs: Record<string, unknown> | undefined;
  if (entry.attrsText !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(entry.attrsText);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new CredentialError(
        field,
        `${source}: the attributes after the second ":" are not a JSON object`,
        'e.g. user:password:{"role":"admin"}',
      );
    attrs = parsed as Record<string, unknown>;
  }
  into.set(name, { name, secret, attrs, source });
}

/** A name as it may be shown: control characters escaped, at most 64 characters. */
function printable(name: string): string {
  const short = name.length > 64 ? `${name.slice(0, 64)}...` : name;
  return JSON.stringify(short).slice(1, -1);
}

/** Reads `paths` (files, or folders whose files are read, not recursively) into one table. */
export function readCredentialFiles(
  paths: readonly string[],
  shape: LineShape,
  encoding: Encoding,
  fieldBase: readonly (string | number)[],
): Map<string, StoredCredential> {
  const table = new Map<string, StoredCredential>();
  paths.forEach((path, i) => {
    const field = [...fieldBase, i];
    for (const file of filesOf(path, field)) {
      let text: string;
      try {
        if (statSync(file).size > MaxCredentialFileBytes)
          throw new CredentialError(
            field,
            `${file} is larger than ${MaxCredentialFileBytes} bytes`,
            'is it the right file?',
          );
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if (err instanceof CredentialError) throw err;
        throw new CredentialError(
          field,
          `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      parseCredentialText(text, shape, encoding, file, field, table);
    }
  });
  return table;
}

function filesOf(path: string, field: readonly (string | number)[]): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(path, d.name))
      .sort();
  } catch (err) {
    throw new CredentialError(
      field,
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'the path is relative to the directory the gateway runs in',
    );
  }
}

/** Pairs `<namePrefix><n>` and `<secretPrefix><n>` of `env`. */
export function envPairs(
  env: Readonly<Record<string, string | undefined>>,
  namePrefix: string,
  secretPrefix: string,
  encoding: Encoding,
  field: readonly (string | number)[],
): Map<string, StoredCredential> {
  const names = new Map<number, [string, string]>();
  const secrets = new Map<number, [string, string]>();
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    // The longer prefix first: with prefixes A_ and A_KEY_, A_KEY_1 is a secret, not name "KEY_1".
    const secretFirst = secretPrefix.length > namePrefix.length;
    const isName = variable.startsWith(namePrefix) && !(secretFirst && variable.startsWith(secretPrefix));
    const isSecret = !isName && variable.startsWith(secretPrefix);
    if (!isName && !isSecret) continue;
    const prefix = isName ? namePrefix : secretPrefix;
    const into = isName ? names : secrets;
    const n = integerSuffix(variable.slice(prefix.length));
    if (n !== undefined) into.set(n, [variable, value]);
  }
  const table = new Map<string, StoredCredential>();
  for (const [n, [variable, name]] of [...names].sort((a, b) => a[0] - b[0])) {
    const secret = secrets.get(n);
    if (secret === undefined) continue;
    add(table, {
      name,
      secretText: secret[1],
      attrsText: '',
      source: `${variable}/${secret[0]}`,
      encoding,
      field,
    });
  }
  return table;
}

/** Every variable of `env` whose name starts with `prefix`, as keys. */
export function envKeys(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  encoding: Encoding,
  field: readonly (string | number)[],
): Map<string, StoredCredential> {
  const table = new Map<string, StoredCredential>();
  for (const [variable, value] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (value === undefined || value === '' || !variable.startsWith(prefix)) continue;
    add(table, {
      name: value,
      secretText: value,
      attrsText: '',
      source: `environment variable ${variable}`,
      encoding,
      field,
    });
  }
  return table;
}

/** Go's strconv.Atoi: an optional sign and decimal digits. */
function integerSuffix(text: string): number | undefined {
  if (!/^[+-]?\d{1,18}$/.test(text)) return undefined;
  return Number(text);
}
