/**
 * app/v1 BodyLimitMiddleware: refuses request bodies larger than `maxSize` with 413, buffering bodies of known
 * length in memory or in temporary files as AILERON does (aileron-app.md §3.1); see middleware.ts and
 * docs/reference/app/bodylimitmiddleware.md.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { errorHandlerFor } from '../../../core/services.ts';
import { type CreateContext, defineResource } from '../../../kernel/resource.ts';
import { Obj, type Static, Type } from '../../../kernel/schema.ts';
import { BodyLimitMiddleware } from './middleware.ts';

export const BodyLimitMiddlewareSpec = Obj({
  maxSize: Type.Integer({
    default: 4_194_304,
    minimum: Number.MIN_SAFE_INTEGER,
    maximum: Number.MAX_SAFE_INTEGER,
    description:
      'largest request body accepted, in bytes (default 4 MiB); larger ones get 413. 0 = no body; negative = no limit',
  }),
  memLimit: Type.Optional(
    Type.Integer({
      minimum: Number.MIN_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        'bodies of known length up to this many bytes are read into memory before the handler runs, longer ones into a temporary file; unset = maxSize; negative = none is read ahead (all are counted as they stream)',
    }),
  ),
  tempPath: Type.String({
    default: '',
    description: "directory of the temporary files; '' = the system's temporary directory",
  }),
});
export type BodyLimitMiddlewareSpec = Static<typeof BodyLimitMiddlewareSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'BodyLimitMiddleware',
  summary:
    'Refuses request bodies over maxSize with 413, counting streamed bodies and reading known-length ones ahead into memory or temporary files.',
  spec: BodyLimitMiddlewareSpec,
  roles: ['Middleware'],
  create(ctx, manifest) {
    const spec = manifest.spec;
    const memLimit = spec.memLimit ?? spec.maxSize;
    const tempPath = spec.tempPath === '' ? tmpdir() : resolve(spec.tempPath);
    // Files are written only for bodies longer than memLimit and within maxSize: check the directory then, at
    // start-up, rather than answer 500s later.
    if (spec.maxSize >= 0 && memLimit >= 0 && memLimit < spec.maxSize) checkDirectory(ctx, tempPath);
    return new BodyLimitMiddleware({
      maxSize: spec.maxSize,
      memLimit,
      tempPath,
      // AILERON picks this kind's error handler by metadata.errorHandler; unset (or unknown): the default.
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});

function checkDirectory(ctx: CreateContext, dir: string): void {
  let problem: string | undefined;
  try {
    if (!statSync(dir).isDirectory()) problem = 'not a directory';
    else accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    problem ??= (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : 'not writable';
  }
  if (problem === undefined) return;
  ctx.fail(['spec', 'tempPath'], `the directory for temporary body files, ${dir}, is ${problem}`, {
    expected: 'an existing directory this process can write',
    found: dir,
    hint: "create it, or set tempPath: '' for the system's temporary directory",
  });
}
