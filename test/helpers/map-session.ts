/**
 * A test-only stand-in for SessionMiddleware: `test/v1 MapSession`, a Middleware kind that gives each client a
 * session kept in this process's memory (a Map), found by an `sid` cookie, and puts it at `req.ctx.locals.session`
 * with the contract's shape (src/app/middleware/session/session.ts). It lets the synchronizer-token tests of
 * CSRFMiddleware run before the real SessionMiddleware exists; it has no expiry, no signing and no store: never
 * use it outside tests.
 *
 *   const gw = await serveYaml(yaml, [MapSession]);   // yaml refers to {apiVersion: test/v1, kind: MapSession}
 */
import { randomBytes } from 'node:crypto';
import type { Session } from '../../src/app/middleware/session/session.ts';
import type { HandlerFn, Middleware } from '../../src/core/roles.ts';
import { defineResource } from '../../src/kernel/resource.ts';
import { Obj } from '../../src/kernel/schema.ts';

class MapSessions implements Middleware {
  readonly #sessions = new Map<string, Map<string, unknown>>();

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const sid = /(?:^|;\s*)sid=([0-9a-f]{32})(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
      const known = sid === undefined ? undefined : this.#sessions.get(sid);
      const id = known === undefined ? randomBytes(16).toString('hex') : sid!;
      const values = known ?? new Map<string, unknown>();
      const sessions = this.#sessions;
      const session: Session = {
        id,
        isNew: known === undefined,
        get: <T>(key: string) => values.get(key) as T | undefined,
        set: (key, value) => {
          values.set(key, value);
          sessions.set(id, values);
        },
        delete: (key) => {
          values.delete(key);
        },
        destroy: () => {
          sessions.delete(id);
        },
        rotate: () => {},
      };
      req.ctx.locals.session = session;
      if (known === undefined) {
        req.ctx.onResponseHead((r) => {
          if (sessions.has(id)) r.appendHeader('set-cookie', `sid=${id}; Path=/; HttpOnly; SameSite=Lax`);
        });
      }
      return next(req, res);
    };
  }
}

export const MapSession = defineResource({
  apiVersion: 'test/v1',
  kind: 'MapSession',
  summary: 'test only: in-memory sessions by an sid cookie, in the session contract',
  spec: Obj({}),
  roles: ['Middleware'],
  create: () => new MapSessions(),
});
