/**
 * app/v1 CompressionMiddleware: compresses response bodies with brotli, zstd or gzip by the client's
 * `Accept-Encoding`, streamed responses included (AILERON's fields and defaults, aileron-app.md §3.2, plus
 * `zstdLevel`); see middleware.ts and docs/reference/app/compressionmiddleware.md.
 */
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { CompressionMiddleware } from './middleware.ts';

/** AILERON's default targetMIMEs. */
export const DefaultTargetMIMEs = [
  'application/json',
  'application/manifest+json',
  'application/graphql+json',
  'text/html',
  'text/richtext',
  'text/plain',
  'text/css',
  'text/xml',
  'application/xml',
  'application/xhtml+xml',
  'image/svg+xml',
  'application/javascript',
  'text/javascript',
  'text/js',
];

/** type/subtype, tokens without `*`: AILERON matches exactly, so a wildcard would never match anything. */
const MediaType = /^[!#$%&'+\-.^_`|~0-9A-Za-z]+\/[!#$%&'+\-.^_`|~0-9A-Za-z]+$/;

export const CompressionMiddlewareSpec = Obj({
  gzipLevel: Type.Integer({
    default: 6,
    minimum: 1,
    maximum: 9,
    description: 'gzip level, 1 (fastest) to 9 (smallest)',
  }),
  brotliLevel: Type.Integer({
    default: 4,
    minimum: -1,
    maximum: 11,
    description: 'brotli quality, 0 (fastest) to 11 (smallest); -1 is 0 too (AILERON wrote level 0 as -1)',
  }),
  zstdLevel: Type.Integer({
    default: 3,
    minimum: 1,
    maximum: 22,
    description: 'zstd level, 1 (fastest) to 22 (smallest); not in AILERON, which has no zstd',
  }),
  targetMIMEs: Type.Array(Type.String(), {
    default: DefaultTargetMIMEs,
    description:
      'media types compressed (exact, without parameters, e.g. application/json); add text/event-stream to compress server-sent events',
  }),
  minimumSize: Type.Integer({
    default: 1024,
    minimum: -2_147_483_648,
    maximum: 2_147_483_647,
    description:
      'bodies shorter than this many bytes (by Content-Length) are sent as they are; 0 or negative = any size. Streamed bodies count as long enough',
  }),
});
export type CompressionMiddlewareSpec = Static<typeof CompressionMiddlewareSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'CompressionMiddleware',
  summary:
    'Compresses response bodies with brotli, zstd or gzip by the client’s Accept-Encoding q-values, streamed responses included.',
  spec: CompressionMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.targetMIMEs.forEach((mime, i) => {
      if (MediaType.test(mime)) return;
      problems.push({
        path: ['targetMIMEs', i],
        message: `"${mime}" is not a media type`,
        expected: 'type/subtype without parameters or wildcards, e.g. application/json',
        found: mime,
      });
    });
    return problems;
  },
  create(_ctx, manifest) {
    const spec = manifest.spec;
    return new CompressionMiddleware({
      levels: { gzip: spec.gzipLevel, br: Math.max(0, spec.brotliLevel), zstd: spec.zstdLevel },
      targetMIMEs: spec.targetMIMEs,
      minimumSize: spec.minimumSize,
    });
  },
});
