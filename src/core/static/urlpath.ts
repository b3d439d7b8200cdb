/**
 * Turns a request target into the file to look up under the root, refusing anything that could leave it: every
 * segment is percent-decoded once, and a decoded segment that is `.` or `..`, or holds `/`, `\` or NUL, refuses
 * the request (400) instead of being cleaned, so `%2e%2e`, `..%2f`, `%5c` and `%00` never reach the file system.
 * Symlinks are the handler's business (it compares the real path with the real root).
 */

export type ResolvedPath =
  | {
      readonly ok: true;
      /** Decoded path segments under the root; empty = the root itself. */
      readonly segments: readonly string[];
      /** The request path ended with `/` (a directory was asked for). */
      readonly trailingSlash: boolean;
      /** The request path (undecoded, query removed), for redirects. */
      readonly rawPath: string;
    }
  | { readonly ok: false; readonly status: 400 | 404; readonly reason: string };

const MaxPathLength = 8192;

/** Resolves `target` (`req.url`); `stripPrefix` ('' = none) is removed from the decoded path first (else 404). */
export function resolveRequestPath(target: string, stripPrefix: string): ResolvedPath {
  let end = target.length;
  const q = target.indexOf('?');
  if (q >= 0) end = q;
  const h = target.indexOf('#');
  if (h >= 0 && h < end) end = h;
  const rawPath = target.slice(0, end);
  if (!rawPath.startsWith('/')) return bad('the path must start with "/"');
  if (rawPath.length > MaxPathLength) return bad('the path is too long');

  const rawSegments = rawPath.split('/');
  const decoded: string[] = [];
  for (let i = 1; i < rawSegments.length; i++) {
    const raw = rawSegments[i]!;
    let seg = raw;
    if (raw.includes('%')) {
      try {
        seg = decodeURIComponent(raw);
      } catch {
        return bad('invalid percent-encoding');
      }
    }
    if (seg.includes('\0')) return bad('NUL byte in the path');
    if (seg.includes('\\')) return bad('backslash in the path');
    if (seg.includes('/')) return bad('encoded slash in the path');
    decoded.push(seg);
  }
  let path = `/${decoded.join('/')}`;
  if (stripPrefix !== '') {
    if (!path.startsWith(stripPrefix)) return { ok: false, status: 404, reason: 'path outside the prefix' };
    path = path.slice(stripPrefix.length);
  }
  const trailingSlash = path.endsWith('/') || path === '';
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '') continue; // `//` and the leading slash
    if (seg === '.' || seg === '..') return bad('dot segment in the path');
    segments.push(seg);
  }
  return { ok: true, segments, trailingSlash, rawPath };
}

function bad(reason: string): ResolvedPath {
  return { ok: false, status: 400, reason };
}
