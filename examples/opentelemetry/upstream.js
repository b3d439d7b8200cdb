// A small upstream for the OpenTelemetry example (no dependencies, no network): answers with the path and the
// traceparent it received; /api/flaky answers 503 on every other call (the gateway retries it).
//
//   node examples/opentelemetry/upstream.js        # listens on 127.0.0.1:9090, or UPSTREAM_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.UPSTREAM_ADDR ?? '127.0.0.1:9090').split(/:(?=\d+$)/);
let flaky = 0;

const server = http.createServer((req, res) => {
  req.resume();
  if (req.url?.startsWith('/api/flaky') && flaky++ % 2 === 0) {
    res.writeHead(503).end('busy\n');
    return;
  }
  res.end(`upstream ${req.url} traceparent=${req.headers.traceparent ?? '-'}\n`);
});

server.listen(Number(port), host, () =>
  console.log(`upstream listening on ${host}:${server.address().port}`),
);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
