/**
 * SOAPRESTMiddleware with `restToSOAP` end to end: the gateway started from YAML, a JSON client on a real socket, a
 * SOAP upstream on 127.0.0.1:0. SOAP 1.1 and 1.2 round trips (the envelope and headers the upstream receives, the
 * JSON the client gets back with namespaces, attributes and order kept), both fault kinds and their statuses, a
 * hostile or broken upstream response (502, and the gateway keeps serving), a request that is not JSON (415).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { send } from './fixtures.ts';

const NS11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const NS12 = 'http://www.w3.org/2003/05/soap-envelope';
const JSONType = { 'content-type': 'application/json' };

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A SOAP upstream answering by path: `/echo` sends back the envelope it received (with the request's media type);
 * `/reply` a 1.1 response whose namespaces are declared on the Envelope; `/fault11`, `/fault12` a Client (1.1)
 * and a Receiver (1.2) fault with status 500; `/bomb`, `/deep`, `/big`, `/json` hostile or wrong answers.
 */
async function soapUpstream(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const path = new URL(req.url!, 'http://x').pathname;
      seen.push({ path, headers: req.headers, body });
      const xml = (status: number, doc: string, type = 'text/xml; charset=utf-8') => {
        res.writeHead(status, { 'content-type': type });
        res.end(doc);
      };
      if (path === '/echo') xml(200, body, req.headers['content-type']);
      else if (path === '/reply')
        xml(
          200,
          `<?xml version="1.0"?><soap:Envelope xmlns:soap="${NS11}" xmlns:m="urn:shop"><soap:Header/><soap:Body><m:PriceResponse currency="EUR"><m:Total>7.50</m:Total><m:Item>Pears</m:Item><m:Item>Apples</m:Item></m:PriceResponse></soap:Body></soap:Envelope>`,
        );
      else if (path === '/fault11')
        xml(
          500,
          `<soap:Envelope xmlns:soap="${NS11}"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>unknown item</faultstring><detail><m:Item xmlns:m="urn:shop" id="9">Plums</m:Item></detail></soap:Fault></soap:Body></soap:Envelope>`,
        );
      else if (path === '/fault12')
        xml(
          500,
          `<env:Envelope xmlns:env="${NS12}"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en">database down</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`,
          'application/soap+xml; charset=utf-8',
        );
      else if (path === '/bomb')
        xml(
          200,
          `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><soap:Envelope xmlns:soap="${NS11}"><soap:Body><a>&lol2;</a></soap:Body></soap:Envelope>`,
        );
      else if (path === '/deep')
        xml(
          200,
          `<soap:Envelope xmlns:soap="${NS11}"><soap:Body>${'<a>'.repeat(50)}${'</a>'.repeat(50)}</soap:Body></soap:Envelope>`,
        );
      else if (path === '/big')
        xml(
          200,
          `<soap:Envelope xmlns:soap="${NS11}"><soap:Body><a>${'x'.repeat(10_000)}</a></soap:Body></soap:Envelope>`,
        );
      else if (path === '/json') xml(200, '{"not": "soap"}', 'application/json');
      else xml(404, 'not found', 'text/plain');
    });
  });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), { what: 'the SOAP upstream listens' });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('SOAPRESTMiddleware restToSOAP end to end', () => {
  let upstream: Awaited<ReturnType<typeof soapUpstream>>;
  let gw: RunningGateway;

  before(async () => {
    upstream = await soapUpstream();
    gw = await startGateway(
      writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  virtualHosts:
    - hosts: [v12.test]
      middleware: [{apiVersion: app/v1, kind: SOAPRESTMiddleware, name: v12}]
      handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
    - middleware: [{apiVersion: app/v1, kind: SOAPRESTMiddleware, name: v11}]
      handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
---
apiVersion: app/v1
kind: SOAPRESTMiddleware
metadata: {name: v11}
spec:
  simple: {trimSpace: true, preferShort: true}
  maxBodySize: 4096
  maxDepth: 30
  restToSOAP:
    action: urn:shop#Default
    actionHeader: X-SOAP-Action
---
apiVersion: app/v1
kind: SOAPRESTMiddleware
metadata: {name: v12}
spec:
  restToSOAP:
    version: "1.2"
    action: urn:shop#Get
    actionHeader: X-Action
    serverFaultStatus: 503
`),
      // Debug: refusals (4xx) are logged too, with their code.
      { timeoutMs: 30_000, env: { GATEWAY_LOG_LEVEL: 'debug' } },
    );
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it('SOAP 1.1: JSON becomes an envelope with SOAPAction, the echoed envelope comes back as the same JSON', async () => {
    const json =
      '{"m:GetPrice":{"@xmlns:m":"urn:shop","@currency":"EUR","m:Item":["Pears","Apples"],"m:Count":"3"}}';
    const answer = await send(
      `${gw.url}/echo`,
      { ...JSONType, 'x-soap-action': 'urn:shop#GetPrice', 'accept-encoding': 'gzip' },
      json,
    );
    const seen = upstream.seen.at(-1)!;
    assert.equal(
      seen.body,
      `<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="${NS11}"><soap:Body><m:GetPrice xmlns:m="urn:shop" currency="EUR">\n  <m:Item>Pears</m:Item>\n  <m:Item>Apples</m:Item>\n  <m:Count>3</m:Count>\n</m:GetPrice></soap:Body></soap:Envelope>`,
    );
    assert.equal(seen.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(seen.headers.soapaction, '"urn:shop#GetPrice"');
    assert.equal(seen.headers.accept, 'text/xml');
    assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
    assert.equal(seen.headers['x-soap-action'], undefined, 'the client header is consumed');
    assert.equal(seen.headers['accept-encoding'], undefined, 'the response must come uncompressed');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.equal(answer.headers['content-length'], String(Buffer.byteLength(answer.body)));
    assert.equal(answer.body, `${json}\n`);
  });

  it('SOAP 1.1: without the client header the configured action is sent; a quoted one is not quoted twice', async () => {
    await send(`${gw.url}/echo`, JSONType, '{"Ping":""}');
    assert.equal(upstream.seen.at(-1)!.headers.soapaction, '"urn:shop#Default"');
    await send(`${gw.url}/echo`, { ...JSONType, 'x-soap-action': '"urn:quoted"' }, '{"Ping":""}');
    assert.equal(upstream.seen.at(-1)!.headers.soapaction, '"urn:quoted"', 'quoted once, not twice');
  });

  it("SOAP 1.1: the Body's content keeps the namespaces declared on the Envelope, attributes and order", async () => {
    const answer = await send(`${gw.url}/reply`, JSONType, '{}');
    assert.match(upstream.seen.at(-1)!.body, /<soap:Body><\/soap:Body>/, '{} is an empty Body');
    assert.equal(answer.status, 200);
    assert.equal(
      answer.body,
      '{"m:PriceResponse":{"@xmlns:m":"urn:shop","@currency":"EUR","m:Total":"7.50","m:Item":["Pears","Apples"]}}\n',
    );
  });

  it('SOAP 1.2: application/soap+xml with the action parameter; a whole Envelope is sent as it is', async () => {
    const json = `{"e:Envelope":{"@xmlns:e":"${NS12}","e:Body":{"q:Get":{"@xmlns:q":"urn:q","q:B":{"$":"2"},"q:A":{"$":"1"}}}}}`;
    const answer = await send(`${gw.url}/echo`, { ...JSONType, host: 'v12.test' }, json);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['content-type'], 'application/soap+xml; charset=utf-8; action="urn:shop#Get"');
    assert.equal(seen.headers.soapaction, undefined);
    assert.equal(seen.headers.accept, 'application/soap+xml');
    assert.match(
      seen.body,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<e:Envelope xmlns:e="http:\/\/www.w3.org/,
    );
    assert.doesNotMatch(seen.body, /soap:Envelope/, 'not wrapped twice');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '{"q:Get":{"@xmlns:q":"urn:q","q:B":{"$":"2"},"q:A":{"$":"1"}}}\n');
  });

  it('SOAP 1.2: an empty action (here from the client header) is left out of the Content-Type', async () => {
    const answer = await send(
      `${gw.url}/echo`,
      { ...JSONType, host: 'v12.test', 'x-action': '' },
      '{"a":"1"}',
    );
    assert.equal(answer.status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['content-type'], 'application/soap+xml; charset=utf-8');
    assert.equal(upstream.seen.at(-1)!.headers['x-action'], undefined);
  });

  it('a SOAP 1.1 Client fault is 400 with its code, string and detail as JSON', async () => {
    const answer = await send(`${gw.url}/fault11`, JSONType, '{"x":"1"}');
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(answer.body), {
      fault: {
        code: 'soap:Client',
        string: 'unknown item',
        detail: { 'm:Item': { '@xmlns:m': 'urn:shop', '@id': '9', $: 'Plums' } },
      },
    });
  });

  it('a SOAP 1.2 Receiver fault has the configured server status (503 here, 502 by default)', async () => {
    const answer = await send(`${gw.url}/fault12`, { ...JSONType, host: 'v12.test' }, '{"x":"1"}');
    assert.equal(answer.status, 503);
    assert.deepEqual(JSON.parse(answer.body), { fault: { code: 'env:Receiver', string: 'database down' } });
  });

  it('a hostile or wrong upstream response is 502, and the gateway keeps serving', async () => {
    for (const [path, code, reason] of [
      ['/bomb', 'E3249', /DOCTYPE is not allowed/],
      ['/deep', 'E3249', /nested deeper than 30/],
      ['/big', 'E3246', /larger than 4096 bytes/],
      ['/json', 'E3249', /answered application\/json, not SOAP XML/],
    ] as const) {
      const answer = await send(`${gw.url}${path}`, JSONType, '{"x":"1"}');
      assert.equal(answer.status, 502, path);
      assert.equal(answer.body, '{"status":502,"statusText":"Bad Gateway"}', path);
      assert.ok(
        gw.logs().some((l) => {
          const error = l.error as { code?: string; msg?: string } | undefined;
          return error?.code === code && reason.test(String(error.msg));
        }),
        `${path} is logged with ${code} and its reason`,
      );
    }
    const after = await send(`${gw.url}/reply`, JSONType, '{}');
    assert.equal(after.status, 200);
  });

  it('a request that is not JSON is 415; JSON that cannot be XML is 400; a bad action header is 400', async () => {
    const xml = await send(`${gw.url}/echo`, { 'content-type': 'text/xml' }, '<a/>');
    assert.equal(xml.status, 415);
    const none = await send(`${gw.url}/echo`, {}, '', 'GET');
    assert.equal(none.status, 415);
    const notXML = await send(`${gw.url}/echo`, JSONType, '{"a b":"1"}');
    assert.equal(notXML.status, 400);
    const broken = await send(`${gw.url}/echo`, JSONType, '{"a":');
    assert.equal(broken.status, 400);
    const action = await send(`${gw.url}/echo`, { ...JSONType, 'x-soap-action': 'a"b' }, '{"a":"1"}');
    assert.equal(action.status, 400);
    const big = await send(`${gw.url}/echo`, JSONType, JSON.stringify({ a: 'x'.repeat(5000) }));
    assert.equal(big.status, 413);
    for (const code of ['E3247', 'E3248', 'E3245'])
      assert.ok(
        gw.logs().some((l) => (l.error as { code?: string } | undefined)?.code === code),
        `a refusal is logged with ${code}`,
      );
    const count = upstream.seen.length;
    await send(`${gw.url}/reply`, JSONType, '{}');
    assert.equal(upstream.seen.length, count + 1, 'none of the refused requests reached the upstream');
  });
});
