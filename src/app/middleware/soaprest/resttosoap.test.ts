/**
 * SOAPRESTMiddleware with restToSOAP in a real HTTPServer built from YAML in this process, in front of an upstream
 * that echoes the envelope it gets: over HTTP/2 (the request body replaced on a stream, the response held and
 * converted, a fault's status changed), and with the whole body arrived before the middleware runs (read from the
 * request's buffer).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inProcessSoapYaml, WaitForBody } from '../../../../test/e2e/soaprest/fixtures.ts';
import { within } from '../../../../test/helpers/eventually.ts';
import { serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';

const NS12 = 'http://www.w3.org/2003/05/soap-envelope';
const json = '{"b":"2","a":{"@x":"1","$":"t"}}';

describe('SOAPRESTMiddleware restToSOAP in an HTTPServer', () => {
  let upstream: http.Server;
  let upstreamURL = '';
  const seen: Array<{ type: string; body: string }> = [];
  const running: YamlGateway[] = [];

  before(async () => {
    // Echoes the envelope; /fault answers a 1.2 Sender fault.
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ type: String(req.headers['content-type']), body });
        res.writeHead(200, { 'content-type': 'application/soap+xml' });
        if (req.url === '/fault')
          res.end(
            `<e:Envelope xmlns:e="${NS12}"><e:Body><e:Fault><e:Code><e:Value>e:Sender</e:Value></e:Code><e:Reason><e:Text>no</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>`,
          );
        else res.end(body);
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
        `  simple: {preferShort: true}\n  restToSOAP: {version: 1.2, action: "urn:x"}`,
      ),
      [WaitForBody],
    );
    running.push(gw);
    return gw;
  }

  function h2(url: string, path: string, body: string) {
    const session = http2.connect(url);
    return within(
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/json',
        });
        let status = 0;
        let type = '';
        let text = '';
        stream.setEncoding('utf8');
        stream.on('response', (h) => {
          status = Number(h[':status']);
          type = String(h['content-type']);
        });
        stream.on('data', (c: string) => {
          text += c;
        });
        stream.on('end', () => resolve({ status, type, body: text }));
        stream.on('error', reject);
        stream.end(body);
      }),
      { what: 'the HTTP/2 answer' },
    ).finally(() => session.close());
  }

  it('converts over HTTP/2: the envelope goes upstream on the stream, the JSON comes back; a Sender fault is 400', async () => {
    const gw = await serve('    - {apiVersion: app/v1, kind: SOAPRESTMiddleware}');
    const answer = await h2(gw.url, '/', json);
    assert.equal(answer.status, 200);
    assert.equal(answer.type, 'application/json');
    assert.equal(answer.body, `${json}\n`);
    assert.equal(seen.at(-1)!.type, 'application/soap+xml; charset=utf-8; action="urn:x"');
    assert.match(seen.at(-1)!.body, new RegExp(`<soap:Envelope xmlns:soap="${NS12}"><soap:Body><b>2</b>`));
    const fault = await h2(gw.url, '/fault', json);
    assert.equal(fault.status, 400);
    assert.equal(fault.body, '{"fault":{"code":"e:Sender","string":"no"}}\n');
  });

  it('converts a body that arrived whole before the middleware ran', async () => {
    const gw = await serve(
      '    - {apiVersion: test/v1, kind: WaitForBody}\n    - {apiVersion: app/v1, kind: SOAPRESTMiddleware}',
    );
    const answer = await within(
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          gw.url,
          { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
          (res) => {
            let body = '';
            res.on('data', (c) => {
              body += c;
            });
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on('error', reject);
        req.end(json);
      }),
      { what: 'the answer' },
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.body, `${json}\n`);
  });
});
