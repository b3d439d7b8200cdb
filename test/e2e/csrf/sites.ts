/**
 * The two web sites of the CSRF browser tests, each a node:http server on 127.0.0.1:0:
 *
 * - the application, behind the gateway (its upstream): `/form-page` and `/fetch-page` get a token from the
 *   gateway's token endpoint and post with it (a form field, or a header of fetch); `/submit` records what it gets
 *   and answers 200 "accepted".
 * - a foreign site on another port (another origin, same site): `/attack` auto-submits a form POST to the gateway's
 *   `/submit`, as a CSRF attack does. It cannot read the victim's cookie or token; it guesses a value.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { within } from '../../helpers/eventually.ts';

export interface Submitted {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Site {
  readonly url: string;
  /** Every POST the site received. */
  readonly posts: Submitted[];
  close(): Promise<void>;
}

const html = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>${body}</body></html>`;

/** Fetches a token (the token endpoint answers text by default), then fills the hidden field and submits. */
const FormPage = html(`
<form method="POST" action="/submit"><input type="hidden" name="_csrf"><input name="title" value="héllo world"></form>
<script>
fetch('/token').then((r) => r.text()).then((token) => {
  document.forms[0]._csrf.value = token;
  document.forms[0].submit();
});
</script>`);

/** Fetches a token as JSON, then posts JSON with it in the X-CSRF-Token header; shows the outcome in the title. */
const FetchPage = html(`
<script>
(async () => {
  const { token } = await (await fetch('/token', { headers: { accept: 'application/json' } })).json();
  const res = await fetch('/submit', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': token },
    body: JSON.stringify({ title: 'from fetch' }),
  });
  document.title = 'status ' + res.status;
})();
</script>`);

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), { what: 'a test site listens' });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function site(server: http.Server, url: string, posts: Submitted[]): Site {
  return {
    url,
    posts,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

export async function startApplication(): Promise<Site> {
  const posts: Submitted[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      if (req.method === 'POST')
        posts.push({ method: req.method, path: req.url!, headers: req.headers, body });
      const page =
        req.url === '/form-page'
          ? FormPage
          : req.url === '/fetch-page'
            ? FetchPage
            : html('<h1>accepted</h1>');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    });
  });
  return site(server, await listen(server), posts);
}

/** The foreign site; `target` is the gateway URL its form posts to. */
export async function startForeignSite(target: string): Promise<Site> {
  const page = html(`
<form method="POST" action="${target}/submit"><input type="hidden" name="_csrf" value="guessed"><input name="title" value="pwned"></form>
<script>document.forms[0].submit();</script>`);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return site(server, await listen(server), []);
}
