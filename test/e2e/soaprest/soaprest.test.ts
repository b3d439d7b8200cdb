/**
 * SOAPRESTMiddleware end to end: the gateway started from YAML, a SOAP client on a real socket, a REST/JSON
 * upstream on 127.0.0.1:0. SOAP 1.1 and 1.2 round trips (what the upstream receives, what the client gets back,
 * element order kept), upstream faults keeping their status, and every refusal with its status: not SOAP (403),
 * not XML or hostile XML (400), too large (413), a bad upstream response (502).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { type JSONUpstream, jsonUpstream, send, soapGatewayConfig } from './fixtures.ts';

const StartDeadline = 30_000;
const SOAP11 = { 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:GetPrice"' };
const envelope = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <m:GetPrice xmlns:m="urn:shop" currency="EUR">
      <m:Item>Apples</m:Item>
      <m:Count>3</m:Count>
      <m:Item>Pears</m:Item>
    </m:GetPrice>
  </soap:Body>
</soap:Envelope>`;

describe('SOAPRESTMiddleware end to end', () => {
  let upstream: JSONUpstream;
  let gw: RunningGateway;

  before(async () => {
    upstream = await jsonUpstream();
    gw = await startGateway(
      writeConfig(soapGatewayConfig(upstream.url, '  simple:\n    trimSpace: true\n  maxBodySize: 65536\n')),
      // Debug: refusals (4xx) are logged at debug level, with their code.
      { timeoutMs: StartDeadline, env: { GATEWAY_LOG_LEVEL: 'debug' } },
    );
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it('SOAP 1.1: the upstream gets JSON in document order, the client gets XML back with text/xml', async () => {
    const answer = await send(`${gw.url}/echo`, { ...SOAP11, 'accept-encoding': 'gzip' }, envelope);
    const seen = upstream.seen.at(-1)!;
    assert.equal(
      seen.body,
      '{"soap:Envelope":{"@xmlns:soap":"http://schemas.xmlsoap.org/soap/envelope/","soap:Body":{"m:GetPrice":{"@xmlns:m":"urn:shop","@currency":"EUR","m:Item":[{"$":"Apples"},{"$":"Pears"}],"m:Count":{"$":"3"}}}}}\n',
    );
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers.accept, 'application/json');
    assert.equal(seen.headers['x-soap-action'], '"urn:GetPrice"');
    assert.equal(seen.headers['x-content-type'], 'text/xml');
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
    assert.equal(seen.headers['accept-encoding'], undefined, 'the response must come uncompressed');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(answer.headers['content-length'], String(Buffer.byteLength(answer.body)));
    assert.equal(
      answer.body,
      `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <m:GetPrice xmlns:m="urn:shop" currency="EUR">
      <m:Item>Apples</m:Item>
      <m:Item>Pears</m:Item>
      <m:Count>3</m:Count>
    </m:GetPrice>
  </soap:Body>
</soap:Envelope>`,
    );
  });

  it('SOAP 1.2: the action comes from the Content-Type, the answer is application/soap+xml', async () => {
    const answer = await send(
      `${gw.url}/echo`,
      { 'content-type': 'application/soap+xml; charset=utf-8; action="urn:shop#GetPrice"' },
      '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><q>1</q></env:Body></env:Envelope>',
    );
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-soap-action'], 'urn:shop#GetPrice');
    assert.equal(seen.headers['x-content-type'], 'application/soap+xml');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/soap+xml; charset=utf-8');
    assert.match(answer.body, /<env:Body>\n {4}<q>1<\/q>\n {2}<\/env:Body>/);
  });

  it('a request whose whole body arrived in pieces (chunked) converts the same', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/echo`, { method: 'POST', headers: SOAP11, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write(envelope.slice(0, 100));
      setImmediate(() => req.end(envelope.slice(100)));
    });
    assert.equal(answer.status, 200);
    assert.match(answer.body, /<m:Item>Apples<\/m:Item>/);
  });

  it('an upstream fault keeps its status; its JSON comes back as XML (numbers as written)', async () => {
    for (const code of [400, 500, 503]) {
      const answer = await send(`${gw.url}/status/${code}`, SOAP11, envelope);
      assert.equal(answer.status, code);
      assert.equal(answer.headers['content-type'], 'text/xml; charset=utf-8');
      assert.equal(
        answer.body,
        `<?xml version="1.0" encoding="UTF-8"?>\n<fault>\n  <code>${code}</code>\n</fault>`,
      );
    }
    const doc = encodeURIComponent('{"r":{"price":1.50,"big":12345678901234567890,"ok":true,"none":null}}');
    const answer = await send(`${gw.url}/json?doc=${doc}`, SOAP11, envelope);
    assert.equal(
      answer.body,
      '<?xml version="1.0" encoding="UTF-8"?>\n<r>\n  <price>1.50</price>\n  <big>12345678901234567890</big>\n  <ok>true</ok>\n  <none></none>\n</r>',
    );
  });

  it('refuses what is not SOAP with 403 (E3216), without calling the upstream', async () => {
    const before = upstream.seen.length;
    for (const headers of [
      { 'content-type': 'text/xml' }, // SOAP 1.1 needs SOAPAction
      { 'content-type': 'application/json' },
      {},
    ]) {
      const answer = await send(`${gw.url}/echo`, { ...headers, accept: 'application/json' }, envelope);
      assert.equal(answer.status, 403, JSON.stringify(headers));
      assert.equal(answer.body, '{"status":403,"statusText":"Forbidden"}');
    }
    assert.equal(upstream.seen.length, before);
  });

  it('refuses a body that is not XML, hostile XML or an empty body with 400 (E3218), upstream not called', async () => {
    const before = upstream.seen.length;
    const lol = `<!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><lolz>&lol9;</lolz>`;
    for (const body of [
      '{"not": "xml"}',
      '<a><b></a>',
      lol,
      '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
      '<a>&x;</a>',
      `${'<a>'.repeat(200)}${'</a>'.repeat(200)}`,
      '',
    ]) {
      const started = performance.now();
      const answer = await send(`${gw.url}/echo`, { ...SOAP11, accept: 'application/json' }, body);
      assert.equal(answer.status, 400, body.slice(0, 60));
      assert.equal(answer.body, '{"status":400,"statusText":"Bad Request"}');
      assert.ok(performance.now() - started < 2000, 'refused at once');
    }
    assert.equal(upstream.seen.length, before);
    const log = gw.logs().find((l) => (l.error as { code?: string } | undefined)?.code === 'E3218');
    assert.ok(log, 'the refusal is logged with its code');
  });

  it('refuses a request body over maxBodySize with 413 (E3245), announced or streamed', async () => {
    const big = `<a>${'x'.repeat(70_000)}</a>`;
    const announced = await send(`${gw.url}/echo`, SOAP11, big);
    assert.equal(announced.status, 413);
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.url}/echo`, { method: 'POST', headers: SOAP11, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)));
      req.write(big.slice(0, 40_000));
      req.end(big.slice(40_000));
    });
    assert.equal(streamed, 413);
  });

  it('answers 502 for an upstream response that is not JSON, not valid JSON, not writable as XML or too large', async () => {
    for (const [path, code] of [
      ['/text', 'E3219'],
      ['/badjson', 'E3220'],
      ['/notxml', 'E3220'],
      ['/big?bytes=70000', 'E3246'],
    ] as const) {
      const answer = await send(`${gw.url}${path}`, { ...SOAP11, accept: 'application/json' }, envelope);
      assert.equal(answer.status, 502, path);
      assert.equal(answer.body, '{"status":502,"statusText":"Bad Gateway"}', path);
      assert.ok(
        gw.logs().some((l) => (l.error as { code?: string } | undefined)?.code === code),
        `${path} is logged with ${code}`,
      );
    }
  });

  it("passes the proxy's own error answer (upstream down) through unconverted", async () => {
    const down = await startGateway(writeConfig(soapGatewayConfig('http://127.0.0.1:1')), {
      timeoutMs: StartDeadline,
    });
    try {
      const answer = await send(`${down.url}/echo`, { ...SOAP11, accept: 'application/json' }, envelope);
      assert.equal(answer.status, 502);
      assert.equal(answer.body, '{"status":502,"statusText":"Bad Gateway"}');
    } finally {
      await down.stop();
    }
  });
});
