/**
 * For the authentication kinds' tests: a kind created from YAML as the gateway creates it, served in front of the
 * echo upstream of serveMiddleware with a probe after it that sends what authentication left in the request
 * context (locals.subject, locals.claims) upstream as headers, so a test sees the status, the challenge, the
 * context and the upstream request at once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultErrorHandler } from '../../src/core/errhandler/default.ts';
import { type Middleware, MiddlewareRole } from '../../src/core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../../src/core/services.ts';
import { Registry } from '../../src/kernel/registry.ts';
import type { ResourceDefinition } from '../../src/kernel/resource.ts';
import { registerAll } from '../../src/register.ts';
import { memoryLogger } from './memory-logger.ts';
import { type ServedMiddleware, serveMiddleware } from './middleware.ts';

/** Creates the first resource of `yaml` (a whole document, or several; the first is the one returned). */
export async function createKind(
  yaml: string,
  env: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: any kind, as Registry.register takes them
  kinds: ReadonlyArray<ResourceDefinition<any, any>> = [],
): Promise<Middleware> {
  const { logger } = memoryLogger('warn');
  const registry = registerAll(new Registry());
  for (const k of kinds) registry.register(k);
  registry.defaultLogger = logger;
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(logger));
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    registry.loadText('authn.yaml', yaml, {});
    const kind = /^kind: (\w+)/m.exec(yaml)?.[1] ?? '';
    const name = /^ {2}name: ([\w.-]+)/m.exec(yaml)?.[1] ?? 'default';
    return await registry.get({ apiVersion: 'app/v1', kind, namespace: 'default', name }, MiddlewareRole);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Sends locals.subject and locals.claims upstream as `x-probe-subject` / `x-probe-claims` (JSON). */
export const probe: Middleware = {
  middleware: (next) => (req, res) => {
    const { subject, claims } = req.ctx.locals;
    if (subject) req.ctx.upstreamHeaders.set('x-probe-subject', JSON.stringify(subject));
    if (claims) req.ctx.upstreamHeaders.set('x-probe-claims', JSON.stringify(Object.fromEntries(claims)));
    return next(req, res);
  },
};

export async function serveAuthn(middleware: Middleware): Promise<ServedMiddleware> {
  return serveMiddleware([middleware, probe], { logLevel: 'debug' });
}

/** Writes `text` to a new temporary file and returns its path. */
export function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'authn-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
