// A tiny stand-in for an OpenTelemetry Collector (no dependencies, no network), for the OpenTelemetry example:
// receives OTLP/HTTP JSON on /v1/traces and /v1/metrics and prints one line per span and per metric point.
//
//   node examples/opentelemetry/collector.js       # listens on 127.0.0.1:4318, or COLLECTOR_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.COLLECTOR_ADDR ?? '127.0.0.1:4318').split(/:(?=\d+$)/);
const Kinds = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

const value = (v) => v?.stringValue ?? v?.intValue ?? v?.doubleValue ?? v?.boolValue ?? '';
const attributes = (list = []) => list.map((a) => `${a.key}=${value(a.value)}`).join(' ');

function printTraces(body) {
  for (const rs of body.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? []) {
        const parent = s.parentSpanId ? ` parent=${s.parentSpanId}` : '';
        console.log(
          `span ${Kinds[s.kind] ?? s.kind} "${s.name}" trace=${s.traceId} span=${s.spanId}${parent} ${attributes(s.attributes)}`,
        );
      }
}

function printMetrics(body) {
  for (const rm of body.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? [])
      for (const m of sm.metrics ?? []) {
        const points = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? m.histogram?.dataPoints ?? [];
        for (const p of points)
          console.log(
            `metric ${m.name} ${attributes(p.attributes)} = ${p.asInt ?? p.asDouble ?? `count ${p.count}`}`,
          );
      }
}

const server = http.createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    text += chunk;
  });
  req.on('end', () => {
    try {
      const body = JSON.parse(text);
      if (req.url === '/v1/traces') printTraces(body);
      else if (req.url === '/v1/metrics') printMetrics(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } catch {
      // This stand-in reads OTLP/JSON only (httpExporter encoding: json).
      res.writeHead(400).end('OTLP/JSON expected\n');
    }
  });
});

server.listen(Number(port), host, () =>
  console.log(`collector listening on ${host}:${server.address().port}`),
);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
