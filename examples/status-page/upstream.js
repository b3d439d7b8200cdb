// A small upstream for the status page example (no dependencies, no network): answers every request with
// "hello from upstream <path>", /healthz with "ok", and /api/slow after 300 ms.
//
//   node examples/status-page/upstream.js         # listens on 127.0.0.1:9090, or UPSTREAM_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.UPSTREAM_ADDR ?? '127.0.0.1:9090').split(/:(?=\d+$)/);

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok\n');
  const answer = () => res.end(`hello from upstream ${req.url}\n`);
  if (req.url?.startsWith('/api/slow')) setTimeout(answer, 300);
  else answer();
});

server.listen(Number(port), host, () =>
  console.log(`upstream listening on ${host}:${server.address().port}`),
);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
