/**
 * AILERON's own soap-rest example (../shared/aileron-examples/soap-rest) behaves as its README documents, in
 * front of a loopback echo upstream (what AILERON's echo.go does: the request's Content-Type and body back). The
 * config is the unchanged text with only the listen address (":8080") and the upstream URL
 * (http://localhost:9090/) replaced. config-error.yaml names fault templates AILERON's repository does not have
 * (test/e2e/compat/corpus.test.ts lists it as stale): it runs with its own errors/*.xml in their place.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { send } from './fixtures.ts';

const repo = resolve(import.meta.dirname, '../../..');
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const folder = join(corpus, 'soap-rest');
const available = existsSync(folder);
const StartDeadline = 30_000;

/** The README's request body (SOAP 1.1 and 1.2 alike). */
const alice = `
<alice xmlns="http://abc.com/" xmlns:ns="http://xyz.com/">
  <bob>charlie</bob>
  <ns:david>edgar</ns:david>
</alice>
`;

describe('AILERON soap-rest example', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  let echo: http.Server;
  let echoURL = '';
  const gateways: RunningGateway[] = [];

  before(async () => {
    echo = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // As echo.go; a test asks for another type with X-Echo-Type (the gateway passes the client's headers on).
        const type = req.headers['x-echo-type'];
        res.setHeader('content-type', typeof type === 'string' ? type : (req.headers['content-type'] ?? ''));
        res.end(Buffer.concat(chunks));
      });
    });
    echo.listen(0, '127.0.0.1');
    await within(once(echo, 'listening'), { what: 'the echo upstream listens' });
    echoURL = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    echo.closeAllConnections();
    echo.close();
  });

  async function serve(file: string, edit: (yaml: string) => string = (y) => y): Promise<RunningGateway> {
    const text = readFileSync(join(folder, file), 'utf8');
    const yaml = edit(
      text.replace('addr: ":8080"', 'addr: "127.0.0.1:0"').replace('http://localhost:9090/', echoURL),
    );
    const gw = await startGateway(writeConfig(yaml), { timeoutMs: StartDeadline });
    gateways.push(gw);
    return gw;
  }

  it('config.yaml: SOAP 1.1 and 1.2 requests come back as the XML sent (in document order), others get 403', async () => {
    const gw = await serve('config.yaml');
    const expected = `<?xml version="1.0" encoding="UTF-8"?>
<alice xmlns="http://abc.com/" xmlns:ns="http://xyz.com/">
  <bob>charlie</bob>
  <ns:david>edgar</ns:david>
</alice>`;
    const soap11 = await send(gw.url, { 'content-type': 'text/xml', soapaction: 'dummy' }, alice);
    assert.equal(soap11.status, 200);
    assert.equal(soap11.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(soap11.body, expected);
    const soap12 = await send(gw.url, { 'content-type': 'application/soap+xml' }, alice);
    assert.equal(soap12.status, 200);
    assert.equal(soap12.headers['content-type'], 'application/soap+xml; charset=utf-8');
    assert.equal(soap12.body, expected);

    // The README's "Modify error response": curl without SOAP headers, then with Accept: text/xml.
    const plain = await send(gw.url, {}, '', 'GET');
    assert.equal(plain.status, 403);
    assert.equal(plain.body, '{"status":403,"statusText":"Forbidden"}');
    const xml = await send(gw.url, { accept: 'text/xml' }, '', 'GET');
    assert.equal(xml.status, 403);
    assert.match(xml.body, /<result>\s*<status>403<\/status>\s*<statusText>Forbidden<\/statusText>/);
  });

  it('config-error.yaml: errors are answered with its SOAP fault templates and statuses', async () => {
    const gw = await serve('config-error.yaml', (yaml) =>
      yaml
        .replace('./errors/version.xml', join(folder, 'errors/version.xml'))
        .replace(
          './_example/soap-rest/error-messages/soapfault_client.txt',
          join(folder, 'errors/client.xml'),
        )
        .replace(
          './_example/soap-rest/error-messages/soapfault_server.txt',
          join(folder, 'errors/server.xml'),
        ),
    );
    const version = await send(gw.url, {}, '', 'GET');
    assert.equal(version.status, 403);
    assert.equal(version.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(version.body, readFileSync(join(folder, 'errors/version.xml'), 'utf8'));

    const client = await send(gw.url, { 'content-type': 'text/xml', soapaction: '' }, '<alice><bob></alice>');
    assert.equal(client.status, 400);
    assert.equal(client.body, readFileSync(join(folder, 'errors/client.xml'), 'utf8'));

    const server = await send(
      gw.url,
      { 'content-type': 'application/soap+xml', 'x-echo-type': 'text/plain' },
      '<a>1</a>',
    );
    assert.equal(server.status, 500, 'statusCode 500 of the config (this gateway answers 502 without it)');
    assert.equal(server.body, readFileSync(join(folder, 'errors/server.xml'), 'utf8'));
  });
});
