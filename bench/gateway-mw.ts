/**
 * The `gateway-mw5` contender of `npm run bench`: the `aileron` command plus one kind, `bench/v1 NoopMiddleware`,
 * added through the CLI's embedding API (`main({ kinds })`, src/cli.ts). bench/configs/gateway-mw5.yaml puts
 * five of them in front of the plain gateway's proxy; what they cost is what the middleware platform costs a
 * request that uses it (issue 12's performance item: at least 0.95x the plain gateway's req/s).
 *
 * Each NoopMiddleware does per request what a typical middleware kind does with the platform and nothing else:
 * writes a value into `req.ctx.locals`, registers a response head hook (reads a header; sets one when its spec
 * names one) and a completion hook (reads the status and sizes). Its hooks are made once, at creation.
 *
 * Run as the harness runs it (bench/lib/contenders.ts), with the Node options of bin/aileron.js's shebang:
 *   node <options> bench/gateway-mw.ts -f bench/configs/gateway-mw5.yaml
 * Like bin/aileron.js it runs the JavaScript build in dist/ when that is current (the harness builds it), else
 * the sources; only this file goes through type stripping, which costs memory (about 25 MB), not time per request.
 */
import { pathToFileURL } from 'node:url';
import { currentBuild } from '../scripts/dist.js';
import type * as Cli from '../src/cli.ts';
import type { Completion } from '../src/core/context.ts';
import type { HandlerFn, Middleware, Response } from '../src/core/roles.ts';
import type * as Resource from '../src/kernel/resource.ts';
import type * as Schema from '../src/kernel/schema.ts';

declare module '../src/core/context.ts' {
  interface Locals {
    /** How many NoopMiddleware the request went through so far. */
    benchNoop: number;
  }
}

// The same modules bin/aileron.js would run: dist/ when it was built from the sources as they are now.
const built = currentBuild();
const base = built ? new URL('./', pathToFileURL(built)) : new URL('../src/', import.meta.url);
const ext = built ? 'js' : 'ts';
const load = (module: string): Promise<unknown> => import(new URL(`${module}.${ext}`, base).href);
const { main } = (await load('cli')) as typeof Cli;
const { defineResource } = (await load('kernel/resource')) as typeof Resource;
const { Obj, Type } = (await load('kernel/schema')) as typeof Schema;

class NoopMiddleware implements Middleware {
  readonly #setHeader: string;
  /** Kept so the hooks' reads are used: responses without Content-Type, completed exchanges, bytes sent. */
  untyped = 0;
  completed = 0;
  responseBytes = 0;

  constructor(setHeader: string) {
    this.#setHeader = setHeader;
  }

  readonly #onHead = (res: Response): void => {
    // Read a header, as CORS or a header policy would; write one only when configured.
    if (res.getHeader('content-type') === undefined) this.untyped++;
    if (this.#setHeader !== '') res.setHeader(this.#setHeader, '1');
  };

  readonly #onComplete = (c: Completion): void => {
    if (c.status !== 0) this.completed++;
    this.responseBytes += c.responseBytes;
  };

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const ctx = req.ctx;
      const locals = ctx.locals;
      locals.benchNoop = (locals.benchNoop ?? 0) + 1;
      ctx.onResponseHead(this.#onHead);
      ctx.onComplete(this.#onComplete);
      return next(req, res);
    };
  }
}

const NoopMiddlewareKind = defineResource({
  apiVersion: 'bench/v1',
  kind: 'NoopMiddleware',
  summary:
    'Benchmark only: uses the request context, a response head hook and completion, and changes nothing.',
  spec: Obj({
    setHeader: Type.String({
      default: '',
      description: 'a response header set to "1" by the head hook; empty = none is set',
    }),
  }),
  roles: ['Middleware'],
  create: (_ctx, manifest) => new NoopMiddleware(manifest.spec.setHeader),
});

await main({ kinds: [NoopMiddlewareKind] });
