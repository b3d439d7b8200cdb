/**
 * examples/rest-soap, as its README runs it: the example's SOAP upstream (upstream.js) behind the gateway started on
 * the example folder. Each curl of the README gets the answer the README describes, and the upstream logs the
 * envelope and SOAPAction the gateway sent it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { send } from '../soaprest/fixtures.ts';
import { type RunningScript, startScript } from './scripts.ts';

const StartDeadline = 30_000;
const JSONType = { 'content-type': 'application/json' };

describe('examples/rest-soap', () => {
  let upstream: RunningScript | undefined;
  let gw: RunningGateway | undefined;

  after(async () => {
    await gw?.stop('SIGKILL');
    await upstream?.stop();
  });

  it('does what its README says', async () => {
    upstream = await startScript(['examples/rest-soap/upstream.js'], { UPSTREAM_ADDR: '127.0.0.1:0' });
    gw = await startGateway('examples/rest-soap/', {
      timeoutMs: StartDeadline,
      env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://${upstream.addr}` },
    });

    const quote = await send(
      `${gw.url}/quote`,
      JSONType,
      '{"q:GetQuote": {"@xmlns:q": "urn:quotes", "q:Symbol": ["ACME", "INIT"]}}',
    );
    assert.equal(quote.status, 200);
    assert.equal(quote.headers['content-type'], 'application/json');
    assert.equal(
      quote.body,
      '{"q:GetQuoteResponse":{"@xmlns:q":"urn:quotes","q:Quote":[{"@symbol":"ACME","q:Price":"100"},{"@symbol":"INIT","q:Price":"125.5"}]}}\n',
    );
    assert.ok(
      upstream
        .output()
        .includes(
          'POST /quote text/xml; charset=utf-8 SOAPAction="urn:quote": <?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><q:GetQuote xmlns:q="urn:quotes">\n  <q:Symbol>ACME</q:Symbol>\n  <q:Symbol>INIT</q:Symbol>\n</q:GetQuote></soap:Body></soap:Envelope>',
        ),
      upstream.output(),
    );

    await send(`${gw.url}/quote`, { ...JSONType, 'x-soap-action': 'urn:quote#v2' }, '{"q:GetQuote": ""}');
    assert.match(upstream.output(), /SOAPAction="urn:quote#v2"/);

    const client = await send(
      `${gw.url}/quote`,
      JSONType,
      '{"q:GetQuote": {"@xmlns:q": "urn:quotes", "q:Symbol": "NOPE"}}',
    );
    assert.equal(client.status, 400);
    assert.equal(
      client.body,
      '{"fault":{"code":"soap:Client","string":"unknown symbol","detail":{"q:Symbol":{"@xmlns:q":"urn:quotes","$":"NOPE"}}}}\n',
    );

    const down = await send(`${gw.url}/down`, JSONType, '{}');
    assert.equal(down.status, 502);
    assert.equal(down.body, '{"fault":{"code":"soap:Server","string":"quote service unavailable"}}\n');

    const bomb = await send(`${gw.url}/bomb`, JSONType, '{}');
    assert.equal(bomb.status, 502);
    assert.equal(bomb.body, '{"status":502,"statusText":"Bad Gateway"}');

    const xml = await send(`${gw.url}/quote`, { 'content-type': 'text/xml' }, '<q/>');
    assert.equal(xml.status, 415);
    assert.equal(xml.body, '{"status":415,"statusText":"Unsupported Media Type"}');
  });
});
