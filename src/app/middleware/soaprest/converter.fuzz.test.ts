/**
 * Seeded fuzz of both converters with hostile documents: valid SOAP and JSON documents mutated by the pieces that
 * matter (tags, entities, DOCTYPE, CDATA, comments, quotes, brackets, control characters, invalid UTF-8),
 * spliced and duplicated, plus generated extremes (deep nesting, many elements, long names). The properties:
 * every document ends in a result or in the converter's own error (XMLReadError, JSONReadError, XMLWriteError),
 * never another exception; a result is valid JSON (XML to JSON) or XML that reads back (JSON to XML); each call
 * stays fast and its output stays proportional to its input (no expansion). The REST-to-SOAP path too: mutated
 * response envelopes and faults end in JSON or an XMLReadError/EnvelopeError, and every request the converter
 * writes, wrapped in an envelope, reads back as one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { random } from '../../../../test/helpers/config-fuzz.ts';
import { type Converter, rayfishConverter, simpleConverter } from './converter.ts';
import { EnvelopeError, readEnvelope, wrapInEnvelope } from './envelope.ts';
import { JSONReadError } from './jsonread.ts';
import { XMLReadError } from './xmlread.ts';
import { XMLWriteError } from './xmlwrite.ts';

const Seed = 0x50a9;
const Cases = 3000;
const limits = { maxDepth: 50, maxElements: 2000 };
const converters: Array<[string, Converter]> = [
  [
    'simple',
    simpleConverter(
      { textKey: '$', attrPrefix: '@', namespaceSep: ':', trimSpace: true, preferShort: false },
      limits,
    ),
  ],
  [
    'badgerfish',
    simpleConverter(
      {
        textKey: '$',
        attrPrefix: '@',
        namespaceSep: '_',
        trimSpace: false,
        preferShort: false,
        badgerfish: true,
      },
      limits,
    ),
  ],
  [
    'rayfish',
    rayfishConverter(
      {
        nameKey: '#name',
        textKey: '#text',
        childrenKey: '#children',
        attrPrefix: '@',
        namespaceSep: ':',
        trimSpace: false,
      },
      limits,
    ),
  ],
];

const Seeds = [
  '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/><soap:Body><m:Get xmlns:m="urn:m" id="1"><m:a>x &amp; y</m:a><m:a>2</m:a><![CDATA[<b>]]><!-- c --></m:Get></soap:Body></soap:Envelope>',
  '<a x="1" y=\'2\'><b>t</b><c/>tail</a>',
];
const XMLPieces = [
  '<',
  '>',
  '</',
  '/>',
  '<a>',
  '</a>',
  '<b x="1">',
  '&',
  '&amp;',
  '&lt;',
  '&#0;',
  '&#x10FFFF;',
  '&#xD800;',
  '&lol;',
  '<!DOCTYPE a [<!ENTITY lol "lol">]>',
  '<!ENTITY x SYSTEM "file:///etc/passwd">',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?xml version="1.0" encoding="latin1"?>',
  '<?pi ?>',
  '"',
  "'",
  '=',
  ':',
  'xmlns:p="u"',
  '__proto__',
  'constructor',
  'toString',
  '\0',
  '\x01',
  '\r\n',
  '\uFFFE',
  '\uD800',
  'é',
  ' ',
  '\t',
];
const JSONSeeds = [
  '{"soap:Envelope":{"@xmlns:soap":"urn:s","soap:Body":{"r":{"z":[1.50,{"$":"t"}],"a":true,"n":null,"@k":"v"}}}}',
  '{"#name":"r","#text":"t","#children":[{"#name":"@k","#text":"v","#children":[]},{"#name":"a","#text":"1","#children":[]}]}',
  '{"a":{"@xmlns":{"$":"urn:d","p":"urn:p"},"b":{}}}',
];
const JSONPieces = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '""',
  '"a"',
  '"@x"',
  '"$"',
  '"#name"',
  '"#children"',
  '"#text"',
  'null',
  'true',
  '1e999',
  '-0',
  '12345678901234567890',
  '"__proto__"',
  '"constructor"',
  '"a b"',
  '"<"',
  '"\\u0000"',
  '"\\ud800"',
  '{"a":',
  '[[[[',
  ']]]]',
  '\0',
];

interface Rand {
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
  next(): number;
}

function mutate(text: string, pieces: readonly string[], r: Rand): string {
  let s = text;
  const steps = 1 + r.int(6);
  for (let i = 0; i < steps; i++) {
    const at = r.int(s.length + 1);
    switch (r.int(5)) {
      case 0:
        s = s.slice(0, at) + r.pick(pieces) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + r.int(8));
        break;
      case 2: {
        const from = r.int(s.length);
        s = s.slice(0, at) + s.slice(from, from + r.int(40)) + s.slice(at);
        break;
      }
      case 3:
        s = s.slice(0, at) + String.fromCharCode(r.int(0x80)) + s.slice(at + 1);
        break;
      default:
        s = s.slice(0, at) + r.pick(pieces).repeat(1 + r.int(50)) + s.slice(at);
    }
  }
  return s;
}

function extremes(): string[] {
  return [
    `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`,
    `<r>${'<a/>'.repeat(50_000)}</r>`,
    `<${'n'.repeat(100_000)}/>`,
    `<a ${Array.from({ length: 5000 }, (_, i) => `a${i}="${i}"`).join(' ')}/>`,
    `<a>${'&amp;'.repeat(100_000)}</a>`,
    `<!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><lolz>&lol9;</lolz>`,
  ];
}

function jsonExtremes(): string[] {
  return [
    `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
    `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    `{"r":[${Array(50_000).fill('{}').join(',')}]}`,
    `{"${'n'.repeat(100_000)}":1}`,
  ];
}

const EnvelopeSeeds = [
  '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:m"><s:Header/><s:Body><m:R a="1"><m:b>2</m:b><m:a>1</m:a></m:R></s:Body></s:Envelope>',
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>no</faultstring><detail><e:W xmlns:e="urn:e">x</e:W></detail></soap:Fault></soap:Body></soap:Envelope>',
  '<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body><Fault><Code><Value>Sender</Value><Subcode><Value>m:X</Value></Subcode></Code><Reason><Text xml:lang="en">r</Text></Reason><Detail>d</Detail></Fault></Body></Envelope>',
];
const EnvelopePieces = [
  ...XMLPieces,
  'Envelope',
  'Body',
  'Fault',
  '<Fault>',
  'faultcode',
  'Value',
  's:',
  'xmlns="http://www.w3.org/2003/05/soap-envelope"',
  'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"',
];

function checkEnvelope(c: Converter, doc: string, keep: boolean, label: string): void {
  const started = performance.now();
  try {
    const out = readEnvelope(Buffer.from(doc), c, keep);
    JSON.parse(out.json);
    if (out.fault) assert.ok(out.side === 'client' || out.side === 'server', label);
    // Namespace declarations carried from the envelope add at most the envelope's own attributes per entry.
    assert.ok(
      out.json.length <= doc.length * 24 + 64,
      `${label}: ${doc.length} bytes of XML gave ${out.json.length}`,
    );
  } catch (err) {
    if (!(err instanceof XMLReadError || err instanceof EnvelopeError))
      assert.fail(`${label}: ${(err as Error).stack}\n--- input: ${doc.slice(0, 300)}`);
  }
  const ms = performance.now() - started;
  assert.ok(ms < 2000, `${label}: took ${ms} ms`);
}

const OwnErrors = [XMLReadError, JSONReadError, XMLWriteError];
const isOwn = (err: unknown) => OwnErrors.some((E) => err instanceof E);

function checkXML(c: Converter, doc: string | Buffer, label: string): void {
  const bytes = typeof doc === 'string' ? Buffer.from(doc) : doc;
  const started = performance.now();
  try {
    const json = c.xmlToJSON(bytes);
    JSON.parse(json);
    // The JSON of a document stays proportional to it: nothing expands.
    assert.ok(
      json.length <= bytes.length * 12 + 16,
      `${label}: ${bytes.length} bytes of XML gave ${json.length} of JSON`,
    );
  } catch (err) {
    if (!isOwn(err))
      assert.fail(`${label}: ${(err as Error).stack}\n--- input: ${bytes.toString().slice(0, 300)}`);
  }
  const ms = performance.now() - started;
  assert.ok(ms < 2000, `${label}: took ${ms} ms`);
}

const generous = simpleConverter(
  { textKey: '$', attrPrefix: '@', namespaceSep: ':', trimSpace: false, preferShort: false },
  { maxDepth: 1000, maxElements: 1_000_000 },
);

function checkJSON(c: Converter, doc: string, label: string): void {
  const started = performance.now();
  try {
    const xml = c.jsonToXML(Buffer.from(doc));
    assert.ok(
      xml.length <= doc.length * 8 + 200,
      `${label}: ${doc.length} bytes of JSON gave ${xml.length} of XML`,
    );
    // What is written reads back as XML (with generous limits: the output may nest one level per array).
    simpleConverter(
      { textKey: '$', attrPrefix: '@', namespaceSep: ':', trimSpace: false, preferShort: false },
      { maxDepth: 1000, maxElements: 1_000_000 },
    ).xmlToJSON(Buffer.from(xml));
    // Wrapped, it is a SOAP request an upstream can read: one envelope (an Envelope the JSON gave may lack a Body).
    try {
      readEnvelope(Buffer.from(wrapInEnvelope(xml, '1.1')), generous, false);
    } catch (err) {
      if (!(err instanceof EnvelopeError) || !/^<\?xml[^>]*>\n<(?:[^\s>/:]+:)?Envelope[\s>/]/.test(xml))
        throw err;
    }
  } catch (err) {
    if (!isOwn(err)) assert.fail(`${label}: ${(err as Error).stack}\n--- input: ${doc.slice(0, 300)}`);
  }
  const ms = performance.now() - started;
  assert.ok(ms < 2000, `${label}: took ${ms} ms`);
}

describe('converters under hostile input (seeded)', () => {
  for (const [name, c] of converters) {
    it(`${name}: XML to JSON ends in JSON or an XMLReadError`, () => {
      const r = random(Seed);
      for (let i = 0; i < Cases; i++)
        checkXML(c, mutate(r.pick(Seeds), XMLPieces, r), `seed ${Seed} case ${i}`);
      for (let i = 0; i < 200; i++) {
        const bytes = Buffer.from(r.pick(Seeds));
        for (let k = 0; k < 4; k++) bytes[r.int(bytes.length)] = r.int(256);
        checkXML(c, bytes, `bytes case ${i}`);
      }
      for (const [i, doc] of extremes().entries()) checkXML(c, doc, `extreme ${i}`);
    });

    it(`${name}: JSON to XML ends in XML or a JSONReadError/XMLWriteError`, () => {
      const r = random(Seed + 1);
      for (let i = 0; i < Cases; i++)
        checkJSON(c, mutate(r.pick(JSONSeeds), JSONPieces, r), `seed ${Seed + 1} case ${i}`);
      for (const [i, doc] of jsonExtremes().entries()) checkJSON(c, doc, `extreme ${i}`);
    });

    it(`${name}: a SOAP response ends in JSON (Body content or fault) or an XMLReadError/EnvelopeError`, () => {
      const r = random(Seed + 2);
      for (let i = 0; i < Cases; i++)
        checkEnvelope(
          c,
          mutate(r.pick(EnvelopeSeeds), EnvelopePieces, r),
          r.int(2) === 0,
          `seed ${Seed + 2} case ${i}`,
        );
      for (const [i, doc] of extremes().entries()) checkEnvelope(c, doc, false, `extreme ${i}`);
    });
  }
});
