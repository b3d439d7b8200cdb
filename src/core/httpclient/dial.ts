/**
 * How upstream connections are opened: AILERON's DialConfig (`localAddress`, `replaceTargets`, `timeout`,
 * `fallbackDelay`, keep-alive) mapped onto undici connectors. A connector runs once per new connection, never
 * per request, so the indirections here cost nothing on the hot path.
 */
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import { tagReads } from '../common/readbuffers.ts';

/** A parsed `replaceTargets` entry: connections for `from` (`host:port`) go to `to` instead. */
export interface ReplaceTarget {
  readonly from: string;
  readonly to:
    | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
    | { readonly kind: 'unix'; readonly path: string };
}

const ReplacePattern = /^\(([\w:-]+)\|(.+)\)[ >]*\(([\w:-]+)\|(.+)\)$/;

/** Splits `host:port` / `[v6]:port`; undefined when there is no numeric port. */
function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:[\]]*):(\d+)$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : undefined;
}

/**
 * Parses AILERON's `(fromNetwork|fromAddress) (toNetwork|toAddress)` entries (spaces ignored, an optional `>`
 * between). Returns the targets, or a message for the first bad entry with its index.
 */
export function parseReplaceTargets(
  entries: readonly string[],
): { targets: ReplaceTarget[] } | { index: number; message: string } {
  const targets: ReplaceTarget[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of entries.entries()) {
    const m = ReplacePattern.exec(raw.replaceAll(' ', ''));
    if (!m)
      return {
        index,
        message: 'expected `(tcp|host:port) (unix|/path/to.sock)` or `(tcp|host:port) (tcp|host:port)`',
      };
    const [, fromNet, fromAddr, toNet, toAddr] = m as unknown as [string, string, string, string, string];
    if (!/^tcp[46]?$/.test(fromNet)) {
      return {
        index,
        message: `the source network must be tcp, tcp4 or tcp6 (upstream connections are TCP), not ${fromNet}`,
      };
    }
    const from = splitHostPort(fromAddr);
    if (!from) return { index, message: `the source address ${fromAddr} needs a port, like example.com:80` };
    const key = `${from.host.toLowerCase()}:${from.port}`;
    if (seen.has(key)) return { index, message: `(${fromNet}|${fromAddr}) is replaced twice` };
    seen.add(key);
    if (toNet === 'unix') {
      // Go writes Linux abstract sockets as @name; Node as a leading NUL byte.
      targets.push({
        from: key,
        to: { kind: 'unix', path: toAddr.startsWith('@') ? `\0${toAddr.slice(1)}` : toAddr },
      });
    } else if (/^tcp[46]?$/.test(toNet)) {
      const to = splitHostPort(toAddr);
      if (!to) return { index, message: `the target address ${toAddr} needs a port, like 127.0.0.1:8080` };
      targets.push({ from: key, to: { kind: 'tcp', host: to.host, port: to.port } });
    } else {
      return { index, message: `the target network must be tcp, tcp4, tcp6 or unix, not ${toNet}` };
    }
  }
  return { targets };
}

/** Parses `localAddress` (`[tcp://]ip[:port]`); undefined address = not set; a string = what is wrong. */
export function parseLocalAddress(value: string): { address?: string; port?: number } | string {
  if (value === '') return {};
  const m = /^(?:(\w+):\/\/)?(.+)$/.exec(value)!;
  const network = m[1] ?? 'tcp';
  if (!/^tcp[46]?$/.test(network)) {
    return `upstream connections are TCP; a ${network} local address cannot be used`;
  }
  const rest = m[2]!;
  const hp = splitHostPort(rest);
  const host = hp ? hp.host : rest.replace(/^\[(.+)\]$/, '$1');
  if (host === '' && hp) return { port: hp.port };
  if (isIP(host) === 0)
    return `${rest} is not an IP address (with an optional port), like 192.0.2.10 or 192.0.2.10:0`;
  return hp && hp.port !== 0 ? { address: host, port: hp.port } : { address: host };
}

export interface DialPlan {
  /** TCP connect timeout for http:// upstreams, ms; 0 = none. */
  readonly httpTimeout: number;
  /** Timeout of TCP connect + TLS handshake for https:// upstreams, ms; 0 = none. */
  readonly httpsTimeout: number;
  readonly tls: ConnectionOptions;
  /** Forced SNI / certificate name (tlsConfig.serverName). */
  readonly serverName: string | undefined;
  readonly sessionResumption: boolean;
  readonly allowH2: boolean;
  /** Offer h2 before http/1.1 in ALPN. */
  readonly preferH2: boolean;
  /** Speak HTTP/2 without TLS to http:// upstreams (prior knowledge). */
  readonly h2c: boolean;
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelay: number;
  readonly localPort: number | undefined;
  readonly replaceTargets: readonly ReplaceTarget[];
}

type ConnectOptions = buildConnector.Options;
type Callback = buildConnector.Callback;
type Connector = buildConnector.connector;

/** The undici `connect` function for a transport: separate timeouts for plain and TLS, target replacement. */
export function connector(plan: DialPlan): Connector {
  const make = (socketPath?: string) => {
    const base: Record<string, unknown> = {
      allowH2: plan.allowH2,
      preferH2: plan.preferH2,
      maxCachedSessions: plan.sessionResumption ? 100 : 0,
      keepAlive: plan.keepAlive,
      keepAliveInitialDelay: plan.keepAliveInitialDelay,
      ...(plan.localPort !== undefined ? { localPort: plan.localPort } : {}),
      ...(socketPath !== undefined ? { socketPath } : {}),
    };
    const plain = buildConnector({
      ...base,
      timeout: plan.httpTimeout,
      useH2c: plan.h2c,
    } as buildConnector.BuildOptions);
    const secure = buildConnector({
      ...base,
      ...plan.tls,
      timeout: plan.httpsTimeout,
      ...(plan.serverName ? { servername: plan.serverName } : {}),
    } as buildConnector.BuildOptions);
    const serverName = plan.serverName;
    return (opts: ConnectOptions, cb: Callback) => {
      // HTTP/1.1 connections (not h2c, not h2 chosen by ALPN): the proxy may free their response buffers once
      // written (common/readbuffers.ts).
      const done = ((...args: Parameters<Callback>) => {
        const [err, socket] = args;
        if (err === null && socket !== null && !plan.h2c && (socket as TLSSocket).alpnProtocol !== 'h2')
          tagReads(socket as Socket);
        cb(...args);
      }) as Callback;
      if (opts.protocol !== 'https:') return plain(opts, done);
      // undici derives the SNI from each request's Host header; a configured serverName must win.
      return secure(serverName ? { ...opts, servername: serverName } : opts, done);
    };
  };
  const direct = make();
  if (plan.replaceTargets.length === 0) return direct;

  const routes = new Map<string, Connector>();
  for (const t of plan.replaceTargets) {
    if (t.to.kind === 'unix') {
      routes.set(t.from, make(t.to.path));
    } else {
      const { host, port } = t.to;
      routes.set(t.from, (opts, cb) => {
        // Keep the original name for SNI and certificate checks: only the socket goes elsewhere.
        const servername = opts.servername || (isIP(opts.hostname) === 0 ? opts.hostname : undefined);
        direct(
          {
            ...opts,
            hostname: host,
            host: `${host}:${port}`,
            port: String(port),
            ...(servername ? { servername } : {}),
          },
          cb,
        );
      });
    }
  }
  return (opts, cb) => {
    const port = opts.port || (opts.protocol === 'https:' ? '443' : '80');
    const route = routes.get(`${opts.hostname.toLowerCase().replace(/^\[(.+)\]$/, '$1')}:${port}`);
    return (route ?? direct)(opts, cb);
  };
}
