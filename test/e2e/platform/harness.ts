/**
 * An in-process gateway for the middleware platform's tests: the real registry, HTTPServer, ReverseProxy and
 * ErrorHandler, loaded from YAML, with test middleware objects plugged in as a test-only kind
 * (`test/v1 Probe`, one object per metadata.name). Logs are collected in memory.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HTTPServer } from '../../../src/core/httpserver/server.ts';
import { type Handler, type Middleware, RunnerRole } from '../../../src/core/roles.ts';
import { Registry } from '../../../src/kernel/registry.ts';
import { defineResource } from '../../../src/kernel/resource.ts';
import { Obj } from '../../../src/kernel/schema.ts';
import { registerAll } from '../../../src/register.ts';

export interface Probes {
  readonly middleware?: Readonly<Record<string, Middleware>>;
  readonly handlers?: Readonly<Record<string, Handler>>;
}

export interface InProcessGateway {
  readonly url: string;
  readonly addr: string;
  /** Log entries written so far at Warn or above (the default SLogger's JSON lines, parsed). */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

function probeKinds(probes: Probes) {
  return [
    defineResource({
      apiVersion: 'test/v1',
      kind: 'ProbeMiddleware',
      summary: 'a test middleware object',
      spec: Obj({}),
      roles: ['Middleware'],
      create: (_ctx, m) => {
        const mw = probes.middleware?.[m.metadata.name];
        if (!mw) throw new Error(`no probe middleware ${m.metadata.name}`);
        return mw;
      },
    }),
    defineResource({
      apiVersion: 'test/v1',
      kind: 'ProbeHandler',
      summary: 'a test handler object',
      spec: Obj({}),
      roles: ['Handler'],
      create: (_ctx, m) => {
        const h = probes.handlers?.[m.metadata.name];
        if (!h) throw new Error(`no probe handler ${m.metadata.name}`);
        return h;
      },
    }),
  ];
}

/**
 * The YAML of a gateway: one HTTPServer on 127.0.0.1:0 whose server middleware are the named probes and whose
 * handler is `handler` (a YAML flow reference) — by default a ReverseProxyHandler to `upstream`.
 */
export function platformConfig(opts: {
  middleware?: readonly string[];
  upstream?: string;
  /** A probe handler's name: the server's handler instead of the proxy. */
  probeHandler?: string;
  serverExtra?: string;
  logDir?: string;
}): string {
  const mws = (opts.middleware ?? []).map(
    (n) => `    - {apiVersion: test/v1, kind: ProbeMiddleware, name: ${n}}`,
  );
  const handler =
    opts.probeHandler === undefined
      ? '{apiVersion: core/v1, kind: ReverseProxyHandler}'
      : `{apiVersion: test/v1, kind: ProbeHandler, name: ${opts.probeHandler}}`;
  const doc = (kind: string, n: string) =>
    `---\napiVersion: test/v1\nkind: ${kind}\nmetadata: {name: ${n}}\nspec: {}\n`;
  const probeDocs =
    (opts.middleware ?? []).map((n) => doc('ProbeMiddleware', n)).join('') +
    (opts.probeHandler === undefined ? '' : doc('ProbeHandler', opts.probeHandler));
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  defaultLogger: {apiVersion: core/v1, kind: SLogger, name: quiet}
  runners:
    - {apiVersion: core/v1, kind: HTTPServer}
---
apiVersion: core/v1
kind: SLogger
metadata: {name: quiet}
spec:
  level: Warn
  logOutput: {outputTarget: ${opts.logDir === undefined ? 'Discard' : `File, logDir: "${opts.logDir}", logFileName: gateway.log`}}
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
${opts.serverExtra ?? ''}  middleware:
${mws.length > 0 ? mws.join('\n') : '    []'}
  virtualHosts:
    - handlers:
        - handler: ${handler}
${probeDocs}${
  opts.upstream === undefined
    ? ''
    : `---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams:
        - url: ${opts.upstream}
`
}`;
}

/** A fresh directory for a gateway's log file (see platformConfig's logDir and InProcessGateway.logs). */
export function logDir(): string {
  return mkdtempSync(join(tmpdir(), 'aileron-platform-'));
}

function readLogs(dir: string | undefined): Array<Record<string, unknown>> {
  if (dir === undefined) return [];
  let text = '';
  try {
    text = readFileSync(join(dir, 'gateway.log'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Loads `yaml` with the probes and runs it until close(). */
export async function startInProcess(
  yaml: string,
  probes: Probes = {},
  logs?: string,
): Promise<InProcessGateway> {
  const registry = registerAll(new Registry()).register(...probeKinds(probes));
  registry.loadText('platform.yaml', yaml, {});
  const entrypoint = await registry.get(registry.entrypointRef(), RunnerRole);
  const server = (entrypoint as unknown as { runners: HTTPServer[] }).runners[0]!;
  const stop = new AbortController();
  const running = entrypoint.run(stop.signal);
  const addr = await Promise.race([
    server.listening,
    running.then(() => {
      throw new Error('the gateway stopped before listening');
    }),
  ]);
  return {
    addr,
    url: `http://${addr}`,
    logs: () => readLogs(logs),
    async close() {
      stop.abort();
      await running;
      await registry.close();
    },
  };
}
