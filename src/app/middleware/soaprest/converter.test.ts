/**
 * The converters on their own: AILERON's JSON shapes (simple, BadgerFish, RayFish), document order kept both
 * ways, Go's indentation, numbers as written, and the documents refused (XML bombs, DOCTYPE, bad XML or JSON,
 * limits) with a clear error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Converter, rayfishConverter, simpleConverter } from './converter.ts';
import { JSONReadError } from './jsonread.ts';
import type { SimpleRules } from './simple.ts';
import { XMLReadError } from './xmlread.ts';
import { XMLWriteError } from './xmlwrite.ts';

const limits = { maxDepth: 100, maxElements: 100_000 };
const simpleRules: SimpleRules = {
  textKey: '$',
  attrPrefix: '@',
  namespaceSep: ':',
  trimSpace: false,
  preferShort: false,
};
const simple = (rules: Partial<SimpleRules> = {}, l = limits): Converter =>
  simpleConverter({ ...simpleRules, ...rules }, l);

const toJSON = (c: Converter, xml: string): unknown => JSON.parse(c.xmlToJSON(Buffer.from(xml)));
const toXML = (c: Converter, json: string): string => c.jsonToXML(Buffer.from(json));

const envelope11 = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
 <soap:Header/>
 <soap:Body/>
</soap:Envelope>`;

describe('simple convention, XML to JSON', () => {
  it('gives the JSON of AILERON testdata: an empty SOAP 1.1 envelope (trimSpace, preferShort)', () => {
    assert.deepEqual(toJSON(simple({ trimSpace: true, preferShort: true }), envelope11), {
      'soap:Envelope': {
        '@xmlns:soap': 'http://schemas.xmlsoap.org/soap/envelope/',
        'soap:Header': '',
        'soap:Body': '',
      },
    });
  });

  it('puts text under "$" unless preferShort, an empty element is {"$": ""}', () => {
    assert.deepEqual(toJSON(simple(), '<a><b>text</b><c/></a>'), {
      a: { b: { $: 'text' }, c: { $: '' } },
    });
    assert.deepEqual(toJSON(simple({ preferShort: true }), '<a><b>text</b><c/></a>'), {
      a: { b: 'text', c: '' },
    });
  });

  it('keeps attributes, namespace prefixes and text beside children', () => {
    assert.deepEqual(toJSON(simple(), '<p:a xmlns:p="urn:p" id="1" p:x="y">t<b/></p:a>'), {
      'p:a': { '@xmlns:p': 'urn:p', '@id': '1', '@p:x': 'y', b: { $: '' }, $: 't' },
    });
  });

  it('makes repeated names an array and keeps document order of keys', () => {
    const json = simple().xmlToJSON(Buffer.from('<r><z>1</z><a>2</a><z>3</z><m/></r>'));
    assert.equal(json, '{"r":{"z":[{"$":"1"},{"$":"3"}],"a":{"$":"2"},"m":{"$":""}}}\n');
  });

  it('joins text pieces, drops white-space-only pieces, trims each with trimSpace', () => {
    const xml = '<a>  one <!-- c --> two <b/>\n  </a>';
    assert.deepEqual(toJSON(simple(), xml), { a: { b: { $: '' }, $: '  one  two ' } });
    assert.deepEqual(toJSON(simple({ trimSpace: true }), xml), { a: { b: { $: '' }, $: 'onetwo' } });
  });

  it('decodes entities and character references, reads CDATA as text, ignores comments and PIs', () => {
    const xml = '<?pi x?><!-- c --><a x="&lt;&#34;&#x41;">&amp;&gt;<![CDATA[<div> & </div>]]><?pi?></a>';
    assert.deepEqual(toJSON(simple(), xml), { a: { '@x': '<"A', $: '&><div> & </div>' } });
  });

  it('gives an array for several top-level elements', () => {
    assert.deepEqual(toJSON(simple(), '<a/><b>x</b>'), [{ a: { $: '' } }, { b: { $: 'x' } }]);
  });

  it('writes namespaceSep between prefix and name', () => {
    assert.deepEqual(toJSON(simple({ namespaceSep: '_' }), '<s:a xmlns:s="u" s:k="v"><s:b/></s:a>'), {
      s_a: { '@xmlns_s': 'u', '@s_k': 'v', s_b: { $: '' } },
    });
  });

  it('keeps names such as toString as data; refuses __proto__, constructor and prototype', () => {
    assert.equal(
      simple().xmlToJSON(Buffer.from('<toString hasOwnProperty="x"><valueOf/></toString>')),
      '{"toString":{"@hasOwnProperty":"x","valueOf":{"$":""}}}\n',
    );
    for (const name of ['__proto__', 'constructor', 'prototype'])
      assert.throws(() => simple().xmlToJSON(Buffer.from(`<a><${name}/></a>`)), XMLReadError);
  });
});

describe('simple convention, JSON to XML', () => {
  it("writes Go's indentation: two spaces, text inline, empty elements open and closed", () => {
    const xml = toXML(
      simple(),
      '{"soap:Envelope":{"@xmlns:soap":"http://schemas.xmlsoap.org/soap/envelope/","soap:Header":"","soap:Body":{"r":{"v":"x","e":{}}}}}',
    );
    assert.equal(
      xml,
      `<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header></soap:Header>
  <soap:Body>
    <r>
      <v>x</v>
      <e></e>
    </r>
  </soap:Body>
</soap:Envelope>`,
    );
  });

  it('keeps the JSON key order, repeats arrays, writes numbers as written, booleans and null', () => {
    const xml = toXML(simple(), '{"r":{"z":[1.50,{"$":1e3}],"a":true,"n":null,"big":12345678901234567890}}');
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<r>\n  <z>1.50</z>\n  <z>1e3</z>\n  <a>true</a>\n  <n></n>\n  <big>12345678901234567890</big>\n</r>',
    );
  });

  it('writes attributes (null is empty), text and children; escapes what XML needs', () => {
    const xml = toXML(simple(), '{"a":{"@x":"<\\"&\'>","@y":null,"$":"1 < 2 & \\"q\\"","b":"c"}}');
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<a x="&lt;&#34;&amp;&#39;&gt;" y="">1 &lt; 2 &amp; &#34;q&#34;\n  <b>c</b>\n</a>',
    );
  });

  it('writes several roots for a top-level array or an object of several keys', () => {
    assert.equal(
      toXML(simple(), '[{"a":"1"},{"b":"2"}]'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<a>1</a>\n<b>2</b>',
    );
  });

  it('restores ":" from namespaceSep', () => {
    assert.equal(
      toXML(simple({ namespaceSep: '_' }), '{"s_a":{"@xmlns_s":"u","s_b":""}}'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<s:a xmlns:s="u">\n  <s:b></s:b>\n</s:a>',
    );
  });

  it('round-trips a SOAP document through JSON with its order', () => {
    const c = simple({ trimSpace: true });
    const doc =
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m:Get xmlns:m="urn:m"><m:z>1</m:z><m:a>2</m:a></m:Get></soap:Body></soap:Envelope>';
    const once = c.xmlToJSON(Buffer.from(doc));
    const xml = c.jsonToXML(Buffer.from(once));
    assert.match(xml, /<m:z>1<\/m:z>\n\s+<m:a>2<\/m:a>/);
    assert.equal(c.xmlToJSON(Buffer.from(xml)), once);
  });

  for (const [json, why] of [
    ['', 'empty'],
    ['{"brokenJSON"', 'not JSON'],
  ] as const)
    it(`refuses a document that is ${why} (JSONReadError)`, () => {
      assert.throws(() => toXML(simple(), json), JSONReadError);
    });

  for (const [json, message] of [
    ['"text"', /must be an object or an array of objects/],
    ['[1]', /top-level array must hold objects/],
    ['{"a b":"x"}', /element name "a b" is not an XML name/],
    ['{"1a":"x"}', /not an XML name/],
    ['{"":"x"}', /not an XML name/],
    ['{"a":{"@x":1}}', /attribute "@x" must be a string or null/],
    ['{"a":{"$":{"b":1}}}', /text value must be a string, number, boolean or null/],
    ['{"a":{"@<":"x"}}', /attribute name "<" is not an XML name/],
  ] as const)
    it(`refuses ${json} (XMLWriteError)`, () => {
      assert.throws(
        () => toXML(simple(), json),
        (err: Error) => err instanceof XMLWriteError && message.test(err.message),
      );
    });

  it('refuses documents deeper than maxDepth or with more than maxElements', () => {
    const c = simple({}, { maxDepth: 5, maxElements: 10 });
    assert.throws(() => toXML(c, '{"a":{"a":{"a":{"a":{"a":{"a":"x"}}}}}}'), /nested deeper than 5/);
    assert.throws(() => toXML(c, '{"a":[[[[[[["x"]]]]]]]}'), /nested deeper than 5/);
    assert.throws(() => toXML(c, `{"r":{"a":[${Array(10).fill('""').join(',')}]}}`), /more than 10 elements/);
    assert.doesNotThrow(() => toXML(c, `{"r":{"a":[${Array(9).fill('""').join(',')}]}}`));
  });
});

describe('XML refused', () => {
  const refused: Array<[string, string | Uint8Array, RegExp]> = [
    [
      'a DOCTYPE (no entity declarations at all)',
      '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
      /DOCTYPE is not allowed/,
    ],
    [
      'a billion-laughs bomb',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>',
      /DOCTYPE/,
    ],
    ['an external entity', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', /DOCTYPE/],
    ['an undeclared entity', '<a>&nbsp;</a>', /unknown entity &nbsp;/],
    ['a lone ampersand', '<a>fish & chips</a>', /&/],
    ['a document without an element', '<!-- nothing -->', /.+/],
    ['a character reference to NUL', '<a>&#0;</a>', /not an XML character/],
    ["AILERON's <&#x0;/>", '<&#x0;/>', /.+/],
    ['a NUL character', '<a>\0</a>', /U\+0000 is not allowed/],
    ['invalid UTF-8', Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e]), /not valid UTF-8/],
    ['another encoding', '<?xml version="1.0" encoding="Shift_JIS"?><a/>', /only UTF-8/],
    ['mismatched tags', '<a><b></a>', /line 1/],
    ['text only', 'hello', /.+/],
    ['an unclosed element', '<a>', /.+/],
    ['a repeated attribute', '<a x="1" x="2"/>', /.+/],
  ];
  for (const [what, doc, message] of refused)
    it(`refuses ${what}`, () => {
      assert.throws(
        () => simple().xmlToJSON(typeof doc === 'string' ? Buffer.from(doc) : doc),
        (err: Error) => err instanceof XMLReadError && message.test(err.message),
      );
    });

  it('refuses documents deeper than maxDepth or with more than maxElements before building them', () => {
    const c = simple({}, { maxDepth: 3, maxElements: 5 });
    assert.throws(() => c.xmlToJSON(Buffer.from('<a><a><a><a/></a></a></a>')), /nested deeper than 3/);
    assert.doesNotThrow(() => c.xmlToJSON(Buffer.from('<a><a><a/></a></a>')));
    assert.throws(() => c.xmlToJSON(Buffer.from('<r><a/><a/><a/><a/><a/></r>')), /more than 5 elements/);
  });
});

describe('BadgerFish convention', () => {
  const bf = simpleConverter({ ...simpleRules, badgerfish: true }, limits);
  it('groups namespace declarations under "@xmlns" and makes an empty element {}', () => {
    assert.deepEqual(toJSON(bf, envelope11), {
      'soap:Envelope': {
        '@xmlns': { soap: 'http://schemas.xmlsoap.org/soap/envelope/' },
        'soap:Header': {},
        'soap:Body': {},
      },
    });
    assert.deepEqual(toJSON(bf, '<a xmlns="urn:d" xmlns:p="urn:p" id="1"><b>t</b></a>'), {
      a: { '@xmlns': { $: 'urn:d', p: 'urn:p' }, '@id': '1', b: { $: 't' } },
    });
  });
  it('writes "@xmlns" groups back as declarations', () => {
    assert.equal(
      toXML(bf, '{"a":{"@xmlns":{"$":"urn:d","p":"urn:p"},"b":{}}}'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<a xmlns="urn:d" xmlns:p="urn:p">\n  <b></b>\n</a>',
    );
  });
});

describe('RayFish convention', () => {
  const rf = rayfishConverter(
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
  it('gives every element #name, #text and #children, attributes first, in document order', () => {
    assert.deepEqual(toJSON(rf, envelope11), {
      '#name': 'soap:Envelope',
      '#text': '',
      '#children': [
        { '#name': '@xmlns:soap', '#text': 'http://schemas.xmlsoap.org/soap/envelope/', '#children': [] },
        { '#name': 'soap:Header', '#text': '', '#children': [] },
        { '#name': 'soap:Body', '#text': '', '#children': [] },
      ],
    });
  });
  it('writes it back, interleaved children in order', () => {
    const doc = '<r k="v"><a>1</a><b>2</b><a>3</a></r>';
    const xml = rf.jsonToXML(Buffer.from(rf.xmlToJSON(Buffer.from(doc))));
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<r k="v">\n  <a>1</a>\n  <b>2</b>\n  <a>3</a>\n</r>',
    );
  });
  it('refuses unknown keys and a #children that is not a list', () => {
    assert.throws(() => toXML(rf, '{"#name":"a","x":1}'), /key "x" is not allowed/);
    assert.throws(() => toXML(rf, '{"#name":"a","#children":{}}'), /#children must be an array/);
  });
});
