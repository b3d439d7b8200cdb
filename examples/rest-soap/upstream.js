// A SOAP 1.1 upstream for the REST-to-SOAP example (no dependencies, no network). It logs the envelope and the
// SOAPAction the gateway sends and answers:
//   POST /quote   a q:GetQuoteResponse with one q:Quote per q:Symbol of the request (namespaces declared on the
//                 Envelope); a Client fault (500) for the symbol NOPE
//   POST /down    a Server fault (500)
//   POST /bomb    a "billion laughs" document (the gateway refuses it: 502)
//
//   node examples/rest-soap/upstream.js      # listens on 127.0.0.1:9091, or UPSTREAM_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.UPSTREAM_ADDR ?? '127.0.0.1:9091').split(/:(?=\d+$)/);
const NS = 'http://schemas.xmlsoap.org/soap/envelope/';

const envelope = (body) =>
  `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${NS}" xmlns:q="urn:quotes"><soap:Body>${body}</soap:Body></soap:Envelope>`;
const fault = (code, text, detail = '') =>
  envelope(
    `<soap:Fault><faultcode>soap:${code}</faultcode><faultstring>${text}</faultstring>${detail}</soap:Fault>`,
  );

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    console.log(
      `${req.method} ${req.url} ${req.headers['content-type']} SOAPAction=${req.headers.soapaction}: ${body}`,
    );
    const xml = (status, doc) => {
      res.writeHead(status, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(doc);
    };
    if (req.url === '/quote') {
      // A stand-in for a real SOAP stack: the symbols are the texts of the q:Symbol elements.
      const symbols = [...body.matchAll(/<q:Symbol>([^<]*)<\/q:Symbol>/g)].map((m) => m[1]);
      if (symbols.includes('NOPE'))
        return xml(500, fault('Client', 'unknown symbol', '<detail><q:Symbol>NOPE</q:Symbol></detail>'));
      const quotes = symbols.map(
        (s, i) => `<q:Quote symbol="${s}"><q:Price>${100 + i * 25.5}</q:Price></q:Quote>`,
      );
      xml(200, envelope(`<q:GetQuoteResponse>${quotes.join('')}</q:GetQuoteResponse>`));
    } else if (req.url === '/down') {
      xml(500, fault('Server', 'quote service unavailable'));
    } else if (req.url === '/bomb') {
      const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`);
      xml(200, `<!DOCTYPE b [<!ENTITY l0 "lol">${entities.join('')}]>${envelope('<b>&l9;</b>')}`);
    } else xml(404, fault('Client', 'no such service'));
  });
});

server.listen(Number(port), host, () =>
  console.log(`SOAP upstream listening on ${host}:${server.address().port}`),
);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
