/**
 * Benchmark origin: a node:http server answering `GET /` with `hello` (5 bytes) and `GET /64k` with 65,536 bytes,
 * keep-alive, nothing else. It is the upstream of every proxy contender and the `direct` contender itself.
 * Bodies are prebuilt buffers and headers flat arrays so the origin costs as little CPU per request as Node
 * allows; when nginx is installed the harness uses nginx as the origin instead (cheaper still, as in the
 * reference measurements).
 *
 *   node bench/origin.ts [--port 0]      -> prints "origin listening on 127.0.0.1:<port>"
 *   node bench/origin.ts --ports 4       -> also "origin ports 127.0.0.1:<p2>,127.0.0.1:<p3>,127.0.0.1:<p4>":
 *                                           the same server on 3 more ports (the 4 upstreams of --balancers)
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Host, listen, serverArgs } from './lib/serve.ts';

const SmallBody = Buffer.from('hello');
const LargeBody = Buffer.alloc(65_536, 'x');

const smallHeaders = ['content-type', 'text/plain', 'content-length', String(SmallBody.length)];
const largeHeaders = ['content-type', 'application/octet-stream', 'content-length', String(LargeBody.length)];
const notFoundHeaders = ['content-type', 'text/plain', 'content-length', '9'];

const serve: RequestListener = (req, res) => {
  // Drain any request body so the connection stays reusable.
  req.resume();
  if (req.url === '/') {
    res.writeHead(200, smallHeaders);
    res.end(SmallBody);
  } else if (req.url === '/64k') {
    res.writeHead(200, largeHeaders);
    res.end(LargeBody);
  } else {
    res.writeHead(404, notFoundHeaders);
    res.end('not found');
  }
};

const args = serverArgs();
listen(createServer(serve), args.port, 'origin');
if (args.ports > 1) {
  // One process for every port keeps the origin's capacity the same as with one upstream.
  const extra = Array.from({ length: args.ports - 1 }, () => {
    const server = createServer(serve);
    server.keepAliveTimeout = 300_000;
    server.headersTimeout = 301_000;
    server.requestTimeout = 0;
    return new Promise<string>((resolve) =>
      server.listen({ port: 0, host: Host, backlog: 4096 }, () =>
        resolve(`${Host}:${(server.address() as AddressInfo).port}`),
      ),
    );
  });
  process.stdout.write(`origin ports ${(await Promise.all(extra)).join(',')}\n`);
}
