/**
 * `test/v1 SessionPage`: a handler for session tests that does with `req.ctx.locals.session` what CSRF and
 * authentication will (read, write, rotate on login, destroy on logout), driven by the request:
 *
 *   GET /page                 an HTML page: counts its visits in the session and shows the session (browser tests)
 *   GET /get                  the session as JSON: {id, isNew, values}
 *   GET /set?k=v&...          sets each query parameter, then answers as /get
 *   GET /big?bytes=N          sets `big` to N characters of random (incompressible) text
 *   GET /login?user=alice     sets `user`, then rotates the id (privilege change)
 *   GET /logout               destroys the session
 *   anything else             as /get
 *
 * As a Middleware (in front of a proxy), it sets the values of an `x-session-set: k=v` request header, then
 * passes the request on.
 *
 * Registered by test/helpers/sessiongateway.ts for gateway processes and by serveYaml for in-process tests.
 */
import { randomBytes } from 'node:crypto';
import '../../src/app/session.ts';
import type { Handler, HandlerFn, Middleware, Request, Response } from '../../src/core/roles.ts';
import { defineResource } from '../../src/kernel/resource.ts';
import { Obj } from '../../src/kernel/schema.ts';

function snapshot(req: Request): string {
  const s = req.ctx.locals.session;
  if (s === undefined) return JSON.stringify({ error: 'no session in the request context' });
  const values: Record<string, unknown> = {};
  for (const key of ['visits', 'user', 'big', 'a', 'b', 'c']) {
    const v = s.get(key);
    if (v !== undefined) values[key] = key === 'big' ? `${String(v).length} characters` : v;
  }
  return JSON.stringify({ id: s.id, isNew: s.isNew, values });
}

function page(req: Request): string {
  const s = req.ctx.locals.session!;
  const visits = (s.get<number>('visits') ?? 0) + 1;
  s.set('visits', visits);
  const user = s.get<string>('user') ?? '';
  return `<!doctype html><html><head><title>session</title></head><body>
<p id="visits">${visits}</p><p id="user">${user}</p><p id="new">${s.isNew}</p>
<a id="next" href="/page">again</a> <a id="login" href="/login?user=alice">login</a> <a id="logout" href="/logout">logout</a>
</body></html>`;
}

class SessionPage implements Handler, Middleware {
  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const set = req.headers['x-session-set'];
      if (typeof set === 'string') {
        const eq = set.indexOf('=');
        req.ctx.locals.session?.set(set.slice(0, eq), set.slice(eq + 1));
      }
      return next(req, res);
    };
  }

  handle(req: Request, res: Response): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const s = req.ctx.locals.session;
    if (s !== undefined) {
      switch (url.pathname) {
        case '/page': {
          const html = page(req);
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
          res.end(html);
          return;
        }
        case '/set':
          for (const [k, v] of url.searchParams) s.set(k, v);
          break;
        case '/big':
          s.set(
            'big',
            randomBytes(Math.ceil(Number(url.searchParams.get('bytes') ?? '0') * 0.75)).toString('base64'),
          );
          break;
        case '/login':
          s.set('user', url.searchParams.get('user') ?? 'someone');
          s.rotate();
          break;
        case '/logout':
          s.destroy();
          break;
      }
    }
    const body = snapshot(req);
    if (url.pathname === '/logout' || url.pathname === '/login') {
      // As a login or logout page does: back to the page.
      if (url.searchParams.get('redirect') !== 'no') {
        res.writeHead(302, { location: '/page', 'content-type': 'application/json' });
        res.end(body);
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
  }
}

export const SessionPageKind = defineResource({
  apiVersion: 'test/v1',
  kind: 'SessionPage',
  summary: 'Tests only: reads and writes the request session as the request asks.',
  spec: Obj({}),
  roles: ['Handler', 'Middleware'],
  create: () => new SessionPage(),
});
