/**
 * SOAPRESTMiddleware in a real HTTPServer built from YAML in this process, in front of a JSON echo upstream: over
 * HTTP/2 (the request body replaced on a stream, the response held and converted), with the whole body arrived
 * before the middleware runs (read from the request's buffer), and with CompressionMiddleware before it (the
 * converted XML is what gets compressed).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { inProcessSoapYaml, WaitForBody } from '../../../../test/e2e/soaprest/fixtures.ts';
import { within } from '../../../../test/helpers/eventually.ts';
import { serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';

const xml =
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><b>2</b><a>1</a></soap:Body></soap:Envelope>';
const converted = `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <b>2</b>
    <a>1</a>
  </soap:Body>
</soap:Envelope>`;

describe('SOAPRESTMiddleware in an HTTPServer', () => {
  let upstream: http.Server;
  let upstreamURL = '';
  const seen: string[] = [];
  const running: YamlGateway[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
    upstream.listen(0, '127.0.0.1');
    await within(once(upstream, 'listening'), { what: 'the upstream listens' });
    upstreamURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const gw of running) await gw.close();
    upstream.closeAllConnections();
    upstream.close();
  });

  async function serve(middleware: string): Promise<YamlGateway> {
    const gw = await serveYaml(
      inProcessSoapYaml(
        upstreamURL,
        middleware,
        '  simple: {trimSpace: true}',
        `apiVersion: app/v1\nkind: CompressionMiddleware\nspec: {minimumSize: 10}\n---\n`,
      ),
      [WaitForBody],
    );
    running.push(gw);
    return gw;
  }

  function post(url: string, headers: http.OutgoingHttpHeaders, body: string) {
    return within(
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        });
        req.on('error', reject);
        req.end(body);
      }),
      { what: 'the answer' },
    );
  }

  it('converts over HTTP/2: the JSON goes upstream on the stream, the XML comes back', async () => {
    const gw = await serve('    - {apiVersion: app/v1, kind: SOAPRESTMiddleware}');
    const session = http2.connect(gw.url);
    try {
      const answer = await within(
        new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
          const stream = session.request({
            ':method': 'POST',
            ':path': '/',
            'content-type': 'application/soap+xml; action=urn:x',
          });
          let status = 0;
          let type = '';
          let body = '';
          stream.setEncoding('utf8');
          stream.on('response', (h) => {
            status = Number(h[':status']);
            type = String(h['content-type']);
          });
          stream.on('data', (c: string) => {
            body += c;
          });
          stream.on('end', () => resolve({ status, type, body }));
          stream.on('error', reject);
          stream.end(xml);
        }),
        { what: 'the HTTP/2 answer' },
      );
      assert.equal(answer.status, 200);
      assert.equal(answer.type, 'application/soap+xml; charset=utf-8');
      assert.equal(answer.body, converted);
      assert.equal(
        seen.at(-1),
        '{"soap:Envelope":{"@xmlns:soap":"http://schemas.xmlsoap.org/soap/envelope/","soap:Body":{"b":{"$":"2"},"a":{"$":"1"}}}}\n',
      );
    } finally {
      session.close();
    }
  });

  it('converts a body that arrived whole before the middleware ran', async () => {
    const gw = await serve(
      '    - {apiVersion: test/v1, kind: WaitForBody}\n    - {apiVersion: app/v1, kind: SOAPRESTMiddleware}',
    );
    const answer = await post(gw.url, { 'content-type': 'text/xml', soapaction: 'x' }, xml);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), converted);
  });

  it('lets CompressionMiddleware before it compress the converted XML', async () => {
    const gw = await serve(
      '    - {apiVersion: app/v1, kind: CompressionMiddleware}\n    - {apiVersion: app/v1, kind: SOAPRESTMiddleware}',
    );
    const answer = await post(
      gw.url,
      { 'content-type': 'text/xml', soapaction: 'x', 'accept-encoding': 'gzip' },
      xml,
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-encoding'], 'gzip');
    assert.equal(answer.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(zlib.gunzipSync(answer.body).toString(), converted);
  });
});
