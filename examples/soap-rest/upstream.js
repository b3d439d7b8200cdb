// A REST/JSON upstream for the SOAPRESTMiddleware example (no dependencies, no network). It logs the JSON the
// gateway sends and answers:
//   POST /quote     {"q:GetQuoteResponse": {...}} with a price per "q:Symbol" of the request
//   POST /echo      the JSON it received (as AILERON's example echo server does)
//   POST /fault     500 with a JSON fault
//   POST /text      200 text/plain (not JSON: the gateway answers 502)
//
//   node examples/soap-rest/upstream.js      # listens on 127.0.0.1:9090, or UPSTREAM_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.UPSTREAM_ADDR ?? '127.0.0.1:9090').split(/:(?=\d+$)/);

function symbolsOf(request) {
  const quote = request?.['soap:Envelope']?.['soap:Body']?.['q:GetQuote'] ?? {};
  const symbols = quote['q:Symbol'] ?? [];
  return (Array.isArray(symbols) ? symbols : [symbols]).map((s) => s.$);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    console.log(
      `${req.method} ${req.url} ${req.headers['x-content-type']} action=${req.headers['x-soap-action']}: ${body.trim()}`,
    );
    const json = (status, doc) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc));
    };
    if (req.url === '/echo') {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' });
      res.end(body);
    } else if (req.url === '/quote') {
      let request;
      try {
        request = JSON.parse(body);
      } catch {
        return json(400, { error: 'not JSON' });
      }
      const quotes = symbolsOf(request).map((symbol, i) => ({
        '@symbol': symbol,
        'q:Price': 100 + i * 25.5,
      }));
      json(200, {
        'soap:Envelope': {
          '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
          'soap:Body': { 'q:GetQuoteResponse': { '@xmlns:q': 'urn:quotes', 'q:Quote': quotes } },
        },
      });
    } else if (req.url === '/fault') {
      json(500, {
        'soap:Envelope': {
          '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
          'soap:Body': {
            'soap:Fault': { faultcode: 'soap:Server', faultstring: 'quote service unavailable' },
          },
        },
      });
    } else if (req.url === '/text') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('not json');
    } else json(404, { error: 'no such service' });
  });
});

server.listen(Number(port), host, () =>
  console.log(`JSON upstream listening on ${host}:${server.address().port}`),
);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
