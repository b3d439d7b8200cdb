/**
 * The double-submit cookie's value in a request. Its attributes are the shared CookieSpec's
 * (src/core/common/cookiespec.ts), as for SessionMiddleware.
 */

/**
 * The value of the first cookie named `name` in a `Cookie` header (`a=1; b=2`), without surrounding double quotes,
 * as Go's `Request.Cookie` reads it; undefined when there is none. Names are compared exactly; pairs without `=`
 * are skipped. Linear in the header's length, which the server bounds.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    start = end + 1;
  }
  return undefined;
}
