// The upstream of the CompressionMiddleware example (no dependencies, no network):
//   /json        a JSON document of about 64 KiB, with Content-Length
//   /small       {"ok":true}: 11 bytes, over the example's minimumSize of 10, so compressed too
//   /image       the JSON document again, as image/png: not a targeted type, sent as it is
//   /events      five server-sent events, one every 300 ms
//
//   node examples/compression/upstream.js      # listens on 127.0.0.1:9090, or UPSTREAM_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.UPSTREAM_ADDR ?? '127.0.0.1:9090').split(/:(?=\d+$)/);

const items = [];
for (let i = 0; i < 900; i++)
  items.push({ id: i, name: `item ${i}`, price: (i * 7) % 100, tags: ['a', 'b'] });
const json = Buffer.from(JSON.stringify(items));

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://upstream').pathname;
  if (path === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`id: ${++sent}\ndata: event ${sent} of 5\n\n`);
      if (sent === 5) {
        clearInterval(timer);
        res.end();
      }
    }, 300);
    res.on('close', () => clearInterval(timer));
    return;
  }
  const [type, body] =
    path === '/small'
      ? ['application/json', Buffer.from('{"ok":true}')]
      : path === '/image'
        ? ['image/png', json]
        : ['application/json', json];
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, etag: '"v1"' });
  res.end(body);
});

server.listen(Number(port), host, () =>
  console.log(`compression upstream listening on ${host}:${server.address().port}`),
);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
