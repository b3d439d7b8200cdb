/**
 * A scripted user agent for authorization-code tests without a browser: `fetch` with a cookie jar and manual
 * redirects, so a test can follow the login one hop at a time and stop, change or replay any hop (the callback's
 * state, the authorization request's nonce). It fills oidc-provider's devInteractions forms (any login and
 * password; then the consent). The real-browser test (Chromium) covers what a browser adds; this covers the
 * attacks a browser would not make.
 */

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly host: string;
  readonly path: string;
}

export interface Hop {
  readonly url: string;
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
  readonly headers: Headers;
}

/** Every request of an agent has this deadline. */
const RequestDeadline = 10_000;

export class UserAgent {
  readonly #jar = new Map<string, StoredCookie>();
  readonly #fetch: typeof fetch;

  /** `fetcher`: e.g. undici's fetch with a dispatcher trusting a test CA, for a provider on HTTPS. */
  constructor(fetcher: typeof fetch = fetch) {
    this.#fetch = fetcher;
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Hop> {
    const u = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html,application/json' };
    const cookie = this.cookieHeader(u);
    if (cookie !== '') headers.cookie = cookie;
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await this.#fetch(u, {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(RequestDeadline),
    });
    for (const line of res.headers.getSetCookie()) this.#store(u, line);
    const location = res.headers.get('location');
    return {
      url,
      status: res.status,
      location: location === null ? undefined : new URL(location, u).toString(),
      body: await res.text(),
      headers: res.headers,
    };
  }

  /**
   * Follows redirects from `url` (at most `max`), filling the OP's login and consent forms on the way, and stops
   * at the first response that is neither a redirect nor an OP form, or before a URL for which `stopAt` is true.
   * Returns every hop.
   */
  async browse(
    url: string,
    options: { login?: string; stopAt?: (url: URL) => boolean; max?: number } = {},
  ): Promise<Hop[]> {
    const hops: Hop[] = [];
    let next: { url: string; form?: Record<string, string> } | undefined = { url };
    for (let i = 0; next !== undefined && i < (options.max ?? 20); i++) {
      if (options.stopAt?.(new URL(next.url))) break;
      const hop = await this.request(next.url, next.form === undefined ? {} : { form: next.form });
      hops.push(hop);
      next = undefined;
      if (hop.status >= 300 && hop.status < 400 && hop.location !== undefined) next = { url: hop.location };
      else if (hop.status === 200) next = this.#opForm(hop, options.login ?? 'alice');
    }
    return hops;
  }

  /**
   * The form of an OP page, filled: the devInteractions login (any user, any password), the consent, the logout
   * confirmation ("Yes, sign me out"), or a form_post response (its hidden fields, as the page's script would).
   */
  #opForm(hop: Hop, login: string): { url: string; form: Record<string, string> } | undefined {
    const tag = /<form\b[^>]*>/.exec(hop.body)?.[0];
    const action = tag === undefined ? undefined : /action="([^"]*)"/.exec(tag)?.[1];
    if (action === undefined) return undefined;
    const url = new URL(unescapeHtml(action), hop.url).toString();
    const form: Record<string, string> = {};
    for (const input of hop.body.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name !== undefined) form[unescapeHtml(name)] = unescapeHtml(value);
    }
    if (/name="login"/.test(hop.body)) Object.assign(form, { login, password: 'any' });
    if (/name="logout"/.test(hop.body)) form.logout = 'yes';
    return { url, form };
  }

  cookieHeader(u: URL): string {
    return [...this.#jar.values()]
      .filter(
        (c) =>
          c.host === u.host &&
          (u.pathname === c.path || u.pathname.startsWith(c.path.replace(/\/?$/, '/')) || c.path === '/'),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The value of a cookie of `host` by name, if set. */
  cookie(host: string, name: string): string | undefined {
    for (const c of this.#jar.values()) if (c.host === host && c.name === name) return c.value;
    return undefined;
  }

  /** Forgets every cookie (a new browser). */
  clear(): void {
    this.#jar.clear();
  }

  #store(u: URL, line: string): void {
    const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = '/';
    let expired = value === '';
    for (const a of attrs) {
      const [k = '', v = ''] = a.split('=');
      if (k.toLowerCase() === 'path' && v.startsWith('/')) path = v;
      if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
    }
    const key = `${u.host} ${path} ${name}`;
    if (expired) this.#jar.delete(key);
    else this.#jar.set(key, { name, value, host: u.host, path });
  }
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&#x27;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
