/**
 * examples/soap-rest, as its README runs it: the example's JSON upstream (upstream.js) behind the gateway started
 * on the example folder. Each curl of the README gets the answer the README describes, and the upstream logs the
 * JSON the gateway sent it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { send } from '../soaprest/fixtures.ts';
import { type RunningScript, startScript } from './scripts.ts';

const StartDeadline = 30_000;
const request = readFileSync('examples/soap-rest/request.xml');

describe('examples/soap-rest', () => {
  let upstream: RunningScript | undefined;
  let gw: RunningGateway | undefined;

  after(async () => {
    await gw?.stop('SIGKILL');
    await upstream?.stop();
  });

  it('does what its README says', async () => {
    upstream = await startScript(['examples/soap-rest/upstream.js'], { UPSTREAM_ADDR: '127.0.0.1:0' });
    gw = await startGateway('examples/soap-rest/', {
      timeoutMs: StartDeadline,
      env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://${upstream.addr}` },
    });
    const soap11 = { 'content-type': 'text/xml', soapaction: 'urn:quote' };

    const quote = await send(`${gw.url}/quote`, soap11, request);
    assert.equal(quote.status, 200);
    assert.equal(quote.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(
      quote.body,
      `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <q:GetQuoteResponse xmlns:q="urn:quotes">
      <q:Quote symbol="ACME">
        <q:Price>100</q:Price>
      </q:Quote>
      <q:Quote symbol="INIT">
        <q:Price>125.5</q:Price>
      </q:Quote>
    </q:GetQuoteResponse>
  </soap:Body>
</soap:Envelope>`,
    );
    assert.match(
      upstream.output(),
      /POST \/quote text\/xml action=urn:quote: \{"soap:Envelope":\{"@xmlns:soap":"http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/","soap:Body":\{"q:GetQuote":\{"@xmlns:q":"urn:quotes","q:Symbol":\[\{"\$":"ACME"\},\{"\$":"INIT"\}\],"q:Currency":\{"\$":"EUR"\}\}\}\}\}/,
    );

    const soap12 = await send(
      `${gw.url}/quote`,
      { 'content-type': 'application/soap+xml; action="urn:quote"' },
      request,
    );
    assert.equal(soap12.status, 200);
    assert.equal(soap12.headers['content-type'], 'application/soap+xml; charset=utf-8');
    assert.equal(soap12.body, quote.body);

    const fault = await send(`${gw.url}/fault`, soap11, request);
    assert.equal(fault.status, 500);
    assert.match(
      fault.body,
      /<soap:Fault>\n\s+<faultcode>soap:Server<\/faultcode>\n\s+<faultstring>quote service unavailable</,
    );

    const notSoap = await send(`${gw.url}/quote`, {}, '', 'GET');
    assert.equal(notSoap.status, 403);
    assert.equal(notSoap.headers['content-type'], 'text/xml; charset=utf-8');
    assert.match(
      notSoap.body,
      /<faultcode>soap:VersionMismatch<\/faultcode>[\s\S]*<status>403<\/status><code>E3216<\/code>/,
    );

    const notXML = await send(
      `${gw.url}/quote`,
      { 'content-type': 'text/xml', soapaction: 'x' },
      '<a><b></a>',
    );
    assert.equal(notXML.status, 400);
    assert.match(
      notXML.body,
      /<faultcode>soap:Client<\/faultcode>[\s\S]*Bad Request[\s\S]*<code>E3218<\/code>/,
    );

    const text = await send(`${gw.url}/text`, { 'content-type': 'text/xml', soapaction: 'x' }, request);
    assert.equal(text.status, 502);
    assert.match(text.body, /<faultcode>soap:Server<\/faultcode>[\s\S]*<code>E3219<\/code>/);
  });
});
