/**
 * The REST/JSON upstream of the `--soap` contenders: reads the request body, answers the same ~4 KiB JSON
 * document (bench/lib/soapdoc.ts) to every request, keep-alive. A prebuilt buffer and flat headers: it costs as
 * little per request as Node allows (its CPU is not the contender's).
 *
 *   node bench/soap-upstream.ts [--port 0]     -> prints "soap-upstream listening on 127.0.0.1:<port>"
 */
import { createServer } from 'node:http';
import { listen, serverArgs } from './lib/serve.ts';
import { SOAPResponseJSON } from './lib/soapdoc.ts';

const body = Buffer.from(SOAPResponseJSON);
const headers = ['content-type', 'application/json', 'content-length', String(body.length)];

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
listen(server, serverArgs().port, 'soap-upstream');
