/**
 * The request path an authorization rule matches: percent-decoded as the reverse proxy decodes it for its own
 * matching (src/core/httpproxy/urlpath.ts: `%2F`, `%5C` and `%25` stay encoded, so an encoded slash cannot make
 * new segments), without the query. A path with `.` or `..` segments, as sent or once decoded
 * (`/public/../admin`, `/public/%2e%2e/admin`), gives undefined: rules never match it, so it is refused. That
 * way no spelling of a path reaches a rule meant for another (also checked behind encoded slashes).
 */
import { decodePath } from '../../core/httpproxy/urlpath.ts';
import type { Request } from '../../core/roles.ts';

const DotSegment = /(?:^|\/)\.\.?(?:\/|$)/;

export function authzPath(req: Request): string | undefined {
  return pathOfTarget(req.url ?? '/');
}

export function pathOfTarget(target: string): string | undefined {
  const q = target.indexOf('?');
  const raw = q < 0 ? target : target.slice(0, q);
  if (DotSegment.test(raw)) return undefined;
  if (!raw.includes('%')) return raw;
  // Dot segments behind encoded slashes too (`/public/a%2F..%2F..%2Fadmin`): an upstream that decodes them would
  // see another path.
  // A backslash counts as a slash here: some upstreams take it for one.
  if (DotSegment.test(decodeAll(raw).replaceAll('\\', '/'))) return undefined;
  return decodePath(raw);
}

/**
 * The path decoded as far as it goes (up to three times: `%252e` is `%2e` once decoded, `.` twice), for the dot
 * segment check only: an upstream that decodes twice must not see a path another rule is for.
 */
function decodeAll(raw: string): string {
  let text = raw;
  for (let i = 0; i < 3 && text.includes('%'); i++) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return text
        .replace(/%2[eE]/g, '.')
        .replace(/%2[fF]/g, '/')
        .replace(/%5[cC]/g, '/');
    }
  }
  return text;
}
