// A WebSocket echo server and client for the WebSocket example (needs the project's devDependencies: npm install,
// for the `ws` package).
//
//   node examples/websocket/echo.js serve [host:port]               the server (default 127.0.0.1:9090)
//   node examples/websocket/echo.js send <ws://host:port/path> <message>...
//                                                                  sends each message, prints each answer
//
// The server answers every message with `echo: <message>`; `serve` prints `websocket echo listening on
// <host:port>` once it accepts connections, and stops on SIGINT/SIGTERM.
import { WebSocket, WebSocketServer } from 'ws';

const [command, target = '127.0.0.1:9090', ...messages] = process.argv.slice(2);

if (command === 'serve') {
  const at = target.lastIndexOf(':');
  const server = new WebSocketServer({ host: target.slice(0, at), port: Number(target.slice(at + 1)) });
  server.on('connection', (socket) => {
    socket.on('message', (data, binary) => socket.send(binary ? data : `echo: ${data}`));
  });
  server.on('listening', () => {
    const a = server.address();
    process.stdout.write(`websocket echo listening on ${a.address}:${a.port}\n`);
  });
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => {
      for (const client of server.clients) client.terminate();
      server.close();
    });
} else if (command === 'send') {
  const socket = new WebSocket(target);
  const left = messages.length > 0 ? [...messages] : ['hello'];
  socket.on('open', () => socket.send(left.shift()));
  socket.on('message', (data) => {
    process.stdout.write(`${data}\n`);
    if (left.length > 0) socket.send(left.shift());
    else socket.close(1000);
  });
  let refused = false;
  socket.on('unexpected-response', (_req, res) => {
    refused = true;
    process.stderr.write(`the handshake was answered with HTTP ${res.statusCode}\n`);
    process.exitCode = 1;
    socket.terminate();
  });
  socket.on('error', (err) => {
    if (refused) return; // terminate() after a refused handshake reports it once more
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  });
} else {
  process.stderr.write('usage: echo.js serve [host:port] | send <ws://host:port/path> <message>...\n');
  process.exitCode = 2;
}
