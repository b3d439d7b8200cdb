/**
 * The OPA input document, as AILERON builds it (aileron-app.md §2.1), so that AILERON's Rego policies read the same
 * fields:
 *
 *   {auth, host, remote, method, api, query: {k: [v…]}, header: {Canonical-Name: [v…]}, env}
 *
 * - `auth`: the claims the authentication put under `claimsKey` (null when the request is not authenticated);
 * - `host`: the Host header (HTTP/2: `:authority`); `remote`: the socket peer as `ip:port` (`[ip]:port` for IPv6);
 * - `api`: the percent-decoded URL path (Go's `URL.Path`; an undecodable path is kept as sent);
 * - `header`: every header by its Go-canonical name, each occurrence its own entry, `Host` and HTTP/2
 *   pseudo-headers left out;
 * - `env`: the envData computed once at start-up.
 * Addition: `clientCert`, only when the connection (or HeaderCertMiddleware) presented a verified client
 * certificate, so AILERON's documents are unchanged otherwise.
 *
 * `canonicalJSON` writes it with object keys sorted, so that equal inputs are equal text: that text is both the
 * body sent to an OPA server and the decision cache's key.
 */
import type { X509Certificate } from 'node:crypto';
import { types } from 'node:util';
import { socketAddressText } from '../../../core/common/ip.ts';
import { canonicalHeader } from '../../../core/httplogger/logging.ts';
import { clientCertificate } from '../../../core/httpserver/clientcert.ts';
import type { Request } from '../../../core/roles.ts';
import { claimsOf } from '../locals.ts';

export interface ClientCertInput {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex (Node's `fingerprint256`). */
  readonly fingerprint256: string;
  /** `DNS:a.example, IP Address:10.0.0.1, …` as Node writes it; '' when there is none. */
  readonly subjectAltName: string;
  readonly validFrom: string;
  readonly validTo: string;
}

export interface OPAInput {
  readonly auth: unknown;
  readonly host: string;
  readonly remote: string;
  readonly method: string;
  readonly api: string;
  readonly query: Record<string, string[]>;
  readonly header: Record<string, string[]>;
  readonly env: Readonly<Record<string, unknown>>;
  readonly clientCert?: ClientCertInput;
}

/** The host environment AILERON's `envData` adds, computed once at start-up. `vars` = `{NAME: value}`. */
export interface EnvDataSpec {
  readonly vars: readonly string[];
  readonly pid: boolean;
  readonly ppid: boolean;
  readonly gid: boolean;
  readonly uid: boolean;
}

export function envData(spec: EnvDataSpec, env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.vars.length > 0) {
    // AILERON collects the values and then attaches an empty object (a bug, aileron-app.md §2.1): we attach them.
    const vars: Record<string, string> = {};
    for (const name of spec.vars) vars[name] = env[name] ?? '';
    out.vars = vars;
  }
  if (spec.pid) out.pid = process.pid;
  if (spec.ppid) out.ppid = process.ppid;
  if (spec.gid) out.gid = process.getgid?.() ?? -1;
  if (spec.uid) out.uid = process.getuid?.() ?? -1;
  return out;
}

export function buildInput(
  req: Request,
  claimsKey: string,
  env: Readonly<Record<string, unknown>>,
): OPAInput {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const input: OPAInput = {
    auth: claimsOf(req, claimsKey) ?? null,
    host: hostOf(req),
    remote: remoteOf(req),
    method: req.method ?? '',
    api: decodePath(rawPath),
    query: q < 0 ? {} : queryOf(target.slice(q + 1)),
    header: headersOf(req.rawHeaders),
    env,
  };
  const cert = clientCertificate(req);
  return cert === undefined ? input : { ...input, clientCert: certInput(cert) };
}

function hostOf(req: Request): string {
  const host = req.headers.host ?? req.headers[':authority'];
  return typeof host === 'string' ? host : '';
}

function remoteOf(req: Request): string {
  const address = req.socket?.remoteAddress;
  if (address === undefined) return '';
  const ip = socketAddressText(address);
  const port = req.socket.remotePort ?? 0;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** `a=1&a=2&b` -> `{a: ['1', '2'], b: ['']}` (Go's url.Query: `+` is a space, undecodable pairs kept as sent). */
export function queryOf(query: string): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  if (query === '') return out;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeQueryPart(pair.slice(eq + 1));
    const list = out[key];
    if (list === undefined) out[key] = [value];
    else list.push(value);
  }
  return out;
}

function decodeQueryPart(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  return decodePath(spaced);
}

function headersOf(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.startsWith(':')) continue; // HTTP/2 pseudo-headers: Go's r.Header has none
    const key = canonicalHeader(name);
    if (key === 'Host') continue; // Go moves Host to r.Host
    const list = out[key];
    if (list === undefined) out[key] = [raw[i + 1]!];
    else list.push(raw[i + 1]!);
  }
  return out;
}

function certInput(cert: X509Certificate): ClientCertInput {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    subjectAltName: cert.subjectAltName ?? '',
    validFrom: cert.validFrom,
    validTo: cert.validTo,
  };
}

/**
 * JSON with every object's keys sorted (arrays keep their order): equal documents give equal text. Values JSON
 * cannot hold are written as JSON.stringify writes them (undefined members dropped, non-finite numbers null).
 */
export function canonicalJSON(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJSON(v))).join(',')}]`;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return canonicalJSON((toJSON as () => unknown).call(value));
  if (types.isMap(value)) return canonicalJSON(Object.fromEntries(value as Map<unknown, unknown>));
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJSON(v)}`);
  }
  return `{${parts.join(',')}}`;
}
