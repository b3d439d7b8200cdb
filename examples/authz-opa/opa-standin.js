// A stand-in for an OPA server running policy.rego, to try the example offline without OPA (no dependencies).
// It speaks OPA's REST Data API for one rule: POST /v1/data/example/authz/allow {"input": ...} -> {"result": bool}.
//
//   node examples/authz-opa/opa-standin.js      # listens on 127.0.0.1:8181, or OPA_ADDR=host:port
import http from 'node:http';

const [host, port] = (process.env.OPA_ADDR ?? '127.0.0.1:8181').split(/:(?=\d+$)/);

/** policy.rego: readonly may GET, update may POST. */
function allow(input) {
  const scope = input?.auth?.attrs?.scope ?? [];
  return (
    (scope.includes('readonly') && input.method === 'GET') ||
    (scope.includes('update') && input.method === 'POST')
  );
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/data/example/authz/allow') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"resource_not_found"}');
      return;
    }
    let input;
    try {
      input = JSON.parse(body).input;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"invalid_parameter"}');
      return;
    }
    const result = allow(input);
    console.log(`${input?.method} ${input?.api} by ${input?.auth?.name ?? '(nobody)'}: ${result}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result }));
  });
});
server.listen(Number(port), host, () => {
  const a = server.address();
  console.log(`OPA stand-in listening on ${a.address}:${a.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
