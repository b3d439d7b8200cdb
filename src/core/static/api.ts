/**
 * core/v1 StaticFileHandler: serves files under a root directory. AILERON's fields and defaults (aileron-core.md
 * §6.9): `rootDir` (default `./`, relative to the working directory), `stripPrefix`, `enableListing` (false),
 * `header`; plus index files, precompressed siblings and the symlink rule, listed in
 * docs/reference/core/staticfilehandler.md and docs/compatibility.md.
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineResource } from '../../kernel/resource.ts';
import {
  Enum,
  MethodList,
  methodList,
  Obj,
  type SchemaProblem,
  type Static,
  Type,
} from '../../kernel/schema.ts';
import { errorHandlerFor } from '../services.ts';
import { PrecompressedSuffix } from './encoding.ts';
import { StaticFileHandler } from './handler.ts';

export const StaticFileHandlerSpec = Obj({
  patterns: Type.Array(Type.String(), {
    default: [],
    uniqueItems: true,
    description: "route paths of the handler; none = the handler entry's pattern",
  }),
  methods: MethodList(
    'methods the route accepts; empty = all (the handler itself serves GET and HEAD, 405 otherwise)',
  ),
  rootDir: Type.String({
    default: './',
    description: 'the directory served, relative to the working directory; nothing outside it is ever served',
  }),
  stripPrefix: Type.String({
    default: '',
    description:
      'removed from the decoded request path before the lookup; a path without it gets 404; "" = none',
  }),
  enableListing: Type.Boolean({
    default: false,
    description:
      'directories get an index file or an HTML listing; false = a directory is 404 (unless indexFiles)',
  }),
  header: Type.Record(Type.String(), Type.String(), {
    default: {},
    description: 'headers set on every response (Cache-Control, ...), over the computed ones',
  }),
  indexFiles: Type.Optional(
    Type.Array(Type.String({ minLength: 1, pattern: '^[^/\\\\]+$' }), {
      uniqueItems: true,
      description:
        'files tried, in order, for a directory (listing on or off); unset = ["index.html"] with enableListing, none without (as AILERON); [] = none',
    }),
  ),
  precompressed: Type.Array(Enum(['br', 'zstd', 'gzip']), {
    default: [],
    uniqueItems: true,
    description:
      'serve the sibling file.br / .zst / .gz when the client accepts that coding (preference order); empty = off',
  }),
  allowSymlinksOutOfRoot: Type.Boolean({
    default: false,
    description: 'follow symlinks whose target is outside rootDir; false = such paths are 404',
  }),
});
export type StaticFileHandlerSpec = Static<typeof StaticFileHandlerSpec>;

/** What the bytes on the wire depend on: a configured value would corrupt the response. */
const FramingHeaders = new Set(['content-length', 'content-range', 'content-encoding', 'transfer-encoding']);

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'StaticFileHandler',
  summary:
    'Serves files under a directory: conditional and range requests, index files, precompressed siblings.',
  spec: StaticFileHandlerSpec,
  roles: ['Handler'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    if (spec.stripPrefix !== '' && !spec.stripPrefix.startsWith('/'))
      problems.push({
        path: ['stripPrefix'],
        message: 'stripPrefix must start with "/" (it is removed from request paths, which do)',
        expected: 'a path such as /static',
        found: JSON.stringify(spec.stripPrefix),
      });
    return problems;
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    const absolute = resolve(spec.rootDir);
    let root = absolute;
    try {
      root = realpathSync(absolute);
      if (!statSync(root).isDirectory())
        ctx.logger.warn(`rootDir ${absolute} is not a directory: every request will get 404`);
    } catch {
      ctx.logger.warn(`rootDir ${absolute} does not exist: every request will get 404 until it does`);
    }
    const header: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.header)) {
      const name = k.toLowerCase();
      if (FramingHeaders.has(name)) {
        ctx.logger.warn(
          `header ${k} is set by the handler from the file served: the configured value is ignored`,
        );
        continue;
      }
      header[name] = v;
    }
    const handler = new StaticFileHandler({
      patterns: spec.patterns,
      methods: methodList(spec.methods),
      root,
      stripPrefix: spec.stripPrefix,
      enableListing: spec.enableListing,
      indexFiles: spec.indexFiles ?? (spec.enableListing ? ['index.html'] : []),
      header,
      precompressed: spec.precompressed.map((coding) => ({ coding, suffix: PrecompressedSuffix[coding]! })),
      allowSymlinksOutOfRoot: spec.allowSymlinksOutOfRoot,
      errorHandler: errorHandlerFor(ctx, manifest),
    });
    ctx.onClose(() => handler.close());
    return handler;
  },
});
