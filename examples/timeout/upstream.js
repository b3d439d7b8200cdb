// A slow upstream for the TimeoutMiddleware example (no dependencies, no network):
//   <any path>?delay=<ms>     answers "done after <ms> ms" once that time has passed
//   <any path>?count=<n>      streams n events, one every 400 ms (server-sent events)
// It logs each request the gateway cancels: that is the gateway aborting its upstream request at the deadline.
//
//   node examples/timeout/upstream.js          # listens on 127.0.0.1:9090, or UPSTREAM_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.UPSTREAM_ADDR ?? '127.0.0.1:9090').split(/:(?=\d+$)/);

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const started = Date.now();
  res.on('close', () => {
    if (!res.writableFinished)
      console.log(`${req.method} ${req.url}: cancelled by the gateway after ${Date.now() - started} ms`);
  });
  if (url.searchParams.has('count')) {
    const count = Number(url.searchParams.get('count'));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`data: event ${++sent} of ${count}\n\n`);
      if (sent === count) {
        clearInterval(timer);
        res.end();
      }
    }, 400);
    res.on('close', () => clearInterval(timer));
    return;
  }
  const delay = Number(url.searchParams.get('delay') ?? 0);
  const timer = setTimeout(() => res.end(`done after ${delay} ms\n`), delay);
  res.on('close', () => clearTimeout(timer));
});

server.listen(Number(port), host, () =>
  console.log(`slow upstream listening on ${host}:${server.address().port}`),
);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
