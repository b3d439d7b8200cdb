/**
 * The OTLP collector of the `gateway-trace*` contenders (`npm run bench -- --tracing`): accepts OTLP/HTTP exports
 * on 127.0.0.1 (any path), reads each body through and answers 200 with an empty ExportTraceServiceResponse. It
 * does not decode: it stands for a collector on the same machine, whose own cost is not the gateway's (its CPU is
 * not in the contender's figures). Prints `listening on <addr>`, `export 1` at the first export (the harness waits
 * for it), and every 100th export with the bytes so far.
 *
 *   node bench/otlp-sink.ts        # port 0, or --port N
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
let exports = 0;
let bytes = 0;

const server = http.createServer((req, res) => {
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    exports++;
    if (exports === 1 || exports % 100 === 0) console.log(`export ${exports} (${bytes} bytes so far)`);
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${(server.address() as AddressInfo).port}`);
});
const stop = () => {
  console.log(`stopping after ${exports} exports, ${bytes} bytes`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
