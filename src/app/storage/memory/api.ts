/**
 * app/v1 MemoryStorage: a bounded, expiring key-value storage in the gateway process, for SessionMiddleware's
 * `storage` when there is no Redis (AILERON documents a "memory storage" but has none). See storage.ts and
 * docs/reference/app/memorystorage.md.
 */
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type Static, Type } from '../../../kernel/schema.ts';
import { MemoryStorage } from './storage.ts';

export const MemoryStorageSpec = Obj({
  maxEntries: Type.Integer({
    default: 100_000,
    minimum: 1,
    maximum: 100_000_000,
    description: 'most entries kept; the least recently used is dropped first',
  }),
  expiration: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'milliseconds to live of an entry whose writer gives none; 0 = until dropped',
  }),
});
export type MemoryStorageSpec = Static<typeof MemoryStorageSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'MemoryStorage',
  summary:
    'A bounded, expiring key-value storage in the gateway process, for server-side sessions without Redis (not shared, lost at restart).',
  spec: MemoryStorageSpec,
  roles: ['KeyValueStorage', 'HealthChecker'],
  create(_ctx, manifest) {
    return new MemoryStorage({
      maxEntries: manifest.spec.maxEntries,
      expirationMs: manifest.spec.expiration,
    });
  },
});
