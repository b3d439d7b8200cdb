/**
 * REST-to-SOAP envelopes: wrapping converted JSON, reading Body content with its namespaces, reading 1.1 and 1.2
 * faults into JSON with their side, refusing what is not an envelope.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rayfishConverter, simpleConverter } from './converter.ts';
import { EnvelopeError, readEnvelope, wrapInEnvelope } from './envelope.ts';
import { XMLReadError } from './xmlread.ts';

const limits = { maxDepth: 20, maxElements: 1000 };
const simple = simpleConverter(
  { textKey: '$', attrPrefix: '@', namespaceSep: ':', trimSpace: true, preferShort: false },
  limits,
);
const NS11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const NS12 = 'http://www.w3.org/2003/05/soap-envelope';
const read = (xml: string, keep = false) => readEnvelope(Buffer.from(xml), simple, keep);

describe('wrapInEnvelope', () => {
  it('wraps converted JSON in a 1.1 or 1.2 Envelope and Body, keeping key order and attributes', () => {
    const xml = simple.jsonToXML(
      Buffer.from('{"m:Get":{"@xmlns:m":"urn:shop","@id":"7","m:B":"2","m:A":"1"}}'),
    );
    assert.equal(
      wrapInEnvelope(xml, '1.1'),
      `<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="${NS11}"><soap:Body><m:Get xmlns:m="urn:shop" id="7">\n  <m:B>2</m:B>\n  <m:A>1</m:A>\n</m:Get></soap:Body></soap:Envelope>`,
    );
    assert.match(
      wrapInEnvelope(xml, '1.2'),
      new RegExp(`<soap:Envelope xmlns:soap="${NS12}"><soap:Body><m:Get `),
    );
  });

  it('leaves a document that is an Envelope already as it is; {} gives an empty Body', () => {
    const env = simple.jsonToXML(Buffer.from(`{"e:Envelope":{"@xmlns:e":"${NS11}","e:Body":{"x":"1"}}}`));
    assert.equal(wrapInEnvelope(env, '1.1'), env);
    assert.match(wrapInEnvelope(simple.jsonToXML(Buffer.from('{}')), '1.1'), /<soap:Body><\/soap:Body>/);
  });
});

describe('readEnvelope', () => {
  it("gives the Body's content with the namespace declarations it needs from the Envelope", () => {
    const out = read(
      `<s:Envelope xmlns:s="${NS11}" xmlns:m="urn:shop" xmlns:unused="urn:u"><s:Body><m:R a="1"><m:B>2</m:B><m:A>1</m:A></m:R></s:Body></s:Envelope>`,
    );
    assert.deepEqual(out, {
      fault: false,
      json: '{"m:R":{"@xmlns:m":"urn:shop","@a":"1","m:B":{"$":"2"},"m:A":{"$":"1"}}}\n',
    });
  });

  it('several Body elements are one object (repeated names an array), as JSON to XML writes them back', () => {
    const xml = `<s:Envelope xmlns:s="${NS11}"><s:Body><b>2</b><a x="1">t</a><b>3</b></s:Body></s:Envelope>`;
    const out = read(xml);
    assert.equal(out.json, '{"b":[{"$":"2"},{"$":"3"}],"a":{"@x":"1","$":"t"}}\n');
    assert.equal(read(`<s:Envelope xmlns:s="${NS11}"><s:Body/></s:Envelope>`).json, '{}\n');
    assert.match(
      wrapInEnvelope(simple.jsonToXML(Buffer.from('{"b":"2","a":{"@x":"1","$":"t"}}')), '1.1'),
      /<soap:Body><b>2<\/b>\n<a x="1">t<\/a><\/soap:Body>/,
    );
  });

  it('a default namespace on the Envelope is carried to unprefixed Body content; keepEnvelope gives all', () => {
    const xml = `<Envelope xmlns="${NS12}"><Body><R xmlns="urn:r">1</R></Body></Envelope>`;
    assert.equal(read(xml).fault, false);
    assert.equal(read(xml).json, '{"R":{"@xmlns":"urn:r","$":"1"}}\n');
    assert.equal(
      read(xml, true).json,
      `{"Envelope":{"@xmlns":"${NS12}","Body":{"R":{"@xmlns":"urn:r","$":"1"}}}}\n`,
    );
  });

  it('a SOAP 1.1 Client fault: code, string, actor and detail (as JSON), client side', () => {
    const out = read(`<soap:Envelope xmlns:soap="${NS11}" xmlns:e="urn:err"><soap:Body><soap:Fault>
      <faultcode>soap:Client.Auth</faultcode><faultstring>bad item</faultstring><faultactor>urn:a</faultactor>
      <detail><e:Why n="1">unknown</e:Why></detail></soap:Fault></soap:Body></soap:Envelope>`);
    assert.deepEqual(out, {
      fault: true,
      side: 'client',
      json: '{"fault":{"code":"soap:Client.Auth","string":"bad item","actor":"urn:a","detail":{"e:Why":{"@xmlns:e":"urn:err","@n":"1","$":"unknown"}}}}\n',
    });
  });

  it('a SOAP 1.2 Receiver fault: Code/Value, Subcode, Reason/Text, Node, text Detail, server side', () => {
    const out = read(`<env:Envelope xmlns:env="${NS12}"><env:Body><env:Fault>
      <env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>m:Down</env:Value></env:Subcode></env:Code>
      <env:Reason><env:Text xml:lang="en">try later</env:Text><env:Text xml:lang="fr">plus tard</env:Text></env:Reason>
      <env:Node>urn:n</env:Node><env:Detail>busy</env:Detail></env:Fault></env:Body></env:Envelope>`);
    assert.deepEqual(out, {
      fault: true,
      side: 'server',
      json: '{"fault":{"code":"env:Receiver","subcode":"m:Down","string":"try later","node":"urn:n","detail":"busy"}}\n',
    });
  });

  it('Sender is a client fault; VersionMismatch a server one', () => {
    const f = (code: string) =>
      read(
        `<e:Envelope xmlns:e="${NS12}"><e:Body><e:Fault><e:Code><e:Value>${code}</e:Value></e:Code></e:Fault></e:Body></e:Envelope>`,
      );
    assert.equal((f('e:Sender') as { side: string }).side, 'client');
    assert.equal((f('e:VersionMismatch') as { side: string }).side, 'server');
  });

  it('refuses what is not one SOAP envelope, and hostile XML', () => {
    assert.throws(() => read('<a/>'), EnvelopeError);
    assert.throws(
      () => read('<Envelope xmlns="urn:other"><Body/></Envelope>'),
      /not a SOAP 1.1 or 1.2 Envelope/,
    );
    assert.throws(() => read(`<s:Envelope xmlns:s="${NS11}"/>`), /has no Body/);
    assert.throws(() => read(`<s:Envelope xmlns:s="${NS11}"><Body/></s:Envelope>`), /has no Body/);
    assert.throws(
      () => read('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'),
      (e) => e instanceof XMLReadError && /DOCTYPE/.test(e.message),
    );
    assert.throws(() => read(`${'<a>'.repeat(30)}${'</a>'.repeat(30)}`), /deeper than 20/);
  });

  it('works with the RayFish convention too (order kept)', () => {
    const ray = rayfishConverter(
      {
        nameKey: '#name',
        textKey: '#text',
        childrenKey: '#children',
        attrPrefix: '@',
        namespaceSep: ':',
        trimSpace: true,
      },
      limits,
    );
    const out = readEnvelope(
      Buffer.from(`<s:Envelope xmlns:s="${NS11}"><s:Body><b>2</b><a>1</a></s:Body></s:Envelope>`),
      ray,
      false,
    );
    assert.equal(
      out.json,
      '[{"#name":"b","#text":"2","#children":[]},{"#name":"a","#text":"1","#children":[]}]\n',
    );
  });
});
