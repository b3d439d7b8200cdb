// A web application for the CORSMiddleware example (no dependencies, no network): one page whose buttons call the
// gateway from the page's own origin with fetch(), and show what the browser let the page see.
//
//   node examples/cors/app.js                               # http://localhost:3000, the origin the gateway allows
//   APP_ADDR=127.0.0.1:3001 node examples/cors/app.js       # http://localhost:3001, an origin it does not allow
//
// The page calls http://localhost:8080, or the gateway named by ?gateway=<url>.
import http from 'node:http';

const [host, port] = (process.env.APP_ADDR ?? '127.0.0.1:3000').split(/:(?=\d+$)/);

const page = `<!doctype html>
<meta charset="utf-8">
<title>CORS example</title>
<h1>A page on <span id="origin"></span></h1>
<p>It calls the gateway at <code id="gateway"></code>:</p>
<button id="get">GET /items</button>
<button id="put">PUT /items/1 with X-Custom (preflighted)</button>
<button id="me">GET /me with cookies</button>
<pre id="log"></pre>
<script>
  const gateway = new URLSearchParams(location.search).get('gateway') ?? 'http://localhost:8080';
  document.getElementById('origin').textContent = location.origin;
  document.getElementById('gateway').textContent = gateway;
  const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
  async function call(label, path, init) {
    try {
      const res = await fetch(gateway + path, init);
      log(label + ': ' + res.status + ' (' + (await res.text()).length + ' bytes read)');
    } catch (err) {
      log(label + ': blocked by the browser (' + err + ')');
    }
  }
  document.getElementById('get').onclick = () => call('GET /items', '/items');
  document.getElementById('put').onclick = () =>
    call('PUT /items/1', '/items/1', { method: 'PUT', headers: { 'x-custom': 'hello' }, body: 'one' });
  document.getElementById('me').onclick = () => {
    document.cookie = 'sid=example; path=/';
    call('GET /me with cookies', '/me', { credentials: 'include' });
  };
</script>
`;

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page);
});
server.listen(Number(port), host, () => {
  const a = server.address();
  console.log(`listening on ${a.address}:${a.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
