// A tiny upstream for the load-balancing example, with no dependencies: answers every request with its name,
// and GET /healthz with 200. Start several, stop one, and watch the gateway take it out of service.
//
//   node examples/load-balancing/upstream.js <name> [host:port]     (default 127.0.0.1:0: a free port)
//
// It prints `<name> listening on <host:port>` once it accepts connections, and stops on SIGINT/SIGTERM.
import { createServer } from 'node:http';

const [name = 'upstream', addr = '127.0.0.1:0'] = process.argv.slice(2);
const at = addr.lastIndexOf(':');
const host = addr.slice(0, at) || '127.0.0.1';
const port = Number(addr.slice(at + 1));

const server = createServer((req, res) => {
  const body = req.url === '/healthz' ? 'ok\n' : `${name}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(port, host, () => {
  const a = server.address();
  process.stdout.write(`${name} listening on ${a.address}:${a.port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
  });
