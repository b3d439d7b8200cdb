/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY, with the rules AILERON's Go transports apply (Go's
 * `http.ProxyFromEnvironment`), so an environment that works for AILERON routes the same way here:
 *
 * - the upper-case name wins over the lower-case one; the values are read once, at start-up;
 * - `http://` upstreams use HTTP_PROXY, `https://` upstreams use HTTPS_PROXY (no fall-back to HTTP_PROXY);
 * - a proxy written without a scheme (`proxy:3128`) means `http://proxy:3128`;
 * - `localhost` and loopback addresses are never proxied;
 * - NO_PROXY is a comma-separated list of `*` (no proxy at all), IP addresses, CIDR ranges, and domain names
 *   with an optional `:port`: `example.com` matches the name and its subdomains, `.example.com` and
 *   `*.example.com` only subdomains.
 */
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export interface ProxyEnvironment {
  readonly httpProxy: URL | undefined;
  readonly httpsProxy: URL | undefined;
  /** Which environment variable each proxy came from, for messages. */
  readonly source: { readonly http?: string; readonly https?: string };
  /** Whether a request to `hostname:port` (hostname lower-case, IPv6 without brackets) bypasses the proxy. */
  bypass(hostname: string, port: string): boolean;
}

type Env = Record<string, string | undefined>;

const ProxySchemes = new Set(['http:', 'https:', 'socks5:', 'socks:']);

/** Thrown for a proxy variable that is not a usable URL; the message names the variable and the value. */
export class ProxyEnvError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.name = 'ProxyEnvError';
    this.variable = variable;
  }
}

function firstSet(env: Env, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && v !== '') return [name, v];
  }
  return undefined;
}

function parseProxy(name: string, value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // not absolute: Go retries with an http:// prefix
  }
  // `proxy:3128` parses as a URL with the scheme "proxy:"; Go treats it as a bare host too.
  if (!url?.host) {
    try {
      url = new URL(`http://${value}`);
    } catch {
      throw new ProxyEnvError(name, `${name}=${value} is not a valid proxy URL`);
    }
  }
  if (!ProxySchemes.has(url.protocol)) {
    throw new ProxyEnvError(
      name,
      `${name}=${value} uses the scheme ${url.protocol.slice(0, -1)}; proxies must be http, https or socks5`,
    );
  }
  return url;
}

/** Reads the proxy variables from `env`. Returns undefined when neither HTTP_PROXY nor HTTPS_PROXY is set. */
export function proxyEnvironment(env: Env = process.env): ProxyEnvironment | undefined {
  const http = firstSet(env, ['HTTP_PROXY', 'http_proxy']);
  const https = firstSet(env, ['HTTPS_PROXY', 'https_proxy']);
  if (!http && !https) return undefined;
  const noProxy = firstSet(env, ['NO_PROXY', 'no_proxy'])?.[1] ?? '';
  const source: { http?: string; https?: string } = {};
  if (http) source.http = http[0];
  if (https) source.https = https[0];
  return {
    httpProxy: http ? parseProxy(...http) : undefined,
    httpsProxy: https ? parseProxy(...https) : undefined,
    source,
    bypass: noProxyMatcher(noProxy),
  };
}

interface DomainRule {
  /** Always starts with a dot. */
  readonly suffix: string;
  /** The rule also matches the name itself (written without a leading dot or `*`). */
  readonly apex: boolean;
  readonly port: string;
}

interface IPRule {
  readonly ip: string;
  readonly port: string;
}

/** Compiles a NO_PROXY value into a predicate over (hostname, port). Malformed entries are ignored, as in Go. */
export function noProxyMatcher(value: string): (hostname: string, port: string) => boolean {
  const domains: DomainRule[] = [];
  const ips: IPRule[] = [];
  const ranges = new BlockList();
  let hasRanges = false;
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return () => true;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (family !== 0 && prefix <= (family === 4 ? 32 : 128)) {
        ranges.addSubnet(cidr[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
        hasRanges = true;
      }
      continue;
    }
    let host = entry;
    let port = '';
    const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(entry);
    const hostPort = /^([^:]+):(\d+)$/.exec(entry);
    if (bracketed) {
      host = bracketed[1]!;
      port = bracketed[2] ?? '';
    } else if (hostPort) {
      host = hostPort[1]!;
      port = hostPort[2]!;
    }
    if (isIP(host) !== 0) {
      ips.push({ ip: normaliseIP(host), port });
      continue;
    }
    if (host.startsWith('*.')) host = host.slice(1);
    if (host === '' || host === '.') continue;
    const apex = !host.startsWith('.');
    const name = apex ? host : host.slice(1);
    domains.push({ suffix: `.${domainToASCII(name) || name}`, apex, port });
  }

  return (hostname, port) => {
    if (hostname === 'localhost') return true;
    const family = isIP(hostname);
    if (family !== 0) {
      if (isLoopback(hostname, family)) return true;
      const ip = normaliseIP(hostname);
      for (const r of ips) if (r.ip === ip && (r.port === '' || r.port === port)) return true;
      if (hasRanges && ranges.check(hostname, family === 4 ? 'ipv4' : 'ipv6')) return true;
    }
    for (const d of domains) {
      if (hostname.endsWith(d.suffix) || (d.apex && hostname === d.suffix.slice(1))) {
        if (d.port === '' || d.port === port) return true;
      }
    }
    return false;
  };
}

function isLoopback(ip: string, family: number): boolean {
  if (family === 4) return ip.startsWith('127.');
  // IPv4-mapped 127.x.y.z is written ::ffff:7fxx:yyzz once normalised.
  const n = normaliseIP(ip);
  return n === '::1' || /^::ffff:7f[0-9a-f]{2}:/.test(n);
}

/** A canonical text form so `::0001` and `::1` compare equal. */
function normaliseIP(ip: string): string {
  if (isIP(ip) === 4) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}
