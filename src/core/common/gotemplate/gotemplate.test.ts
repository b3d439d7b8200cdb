/**
 * Go's text/template and html/template as AILERON's templates use them. Expected outputs are Go's (text/template
 * and html/template of Go 1.24 on the same data: Go's printing rules, `<no value>`, sorted map keys, escapers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGoTemplate, TemplateExecError, TemplateSyntaxError, typedMap } from './index.ts';

const header = typedMap({ 'User-Agent': ['curl/8.5.0'], Accept: ['*/*', 'text/html'] }, [], 'http.Header');
const query = typedMap({ b: ['2'], a: ['1', 'x y'] }, [], 'url.Values');
const data = {
  proto: 'HTTP/1.1',
  host: 'localhost:8080',
  method: 'GET',
  path: '/hello',
  remote: '127.0.0.1:54321',
  header,
  query,
  n: 3,
  f: 2.5,
  list: ['a', 'b', 'c'],
  empty: [],
  nested: { inner: { value: 'deep' } },
  nil: null,
  html: '<b>"Tom" & \'Jerry\' +1</b>',
};
const text = (t: string) => compileGoTemplate(t)(data);
const html = (t: string) => compileGoTemplate(t, { html: true })(data);

describe('GoText: fields, printing and variables', () => {
  it("prints values as Go's fmt does", () => {
    assert.equal(text('{{.proto}} {{.n}} {{.f}} {{.list}} {{.empty}}'), 'HTTP/1.1 3 2.5 [a b c] []');
    assert.equal(text('{{.header}}'), 'map[Accept:[*/* text/html] User-Agent:[curl/8.5.0]]');
    assert.equal(text('{{.query}}'), 'map[a:[1 x y] b:[2]]');
    assert.equal(
      text('{{.nested}} {{.nil}} {{true}} {{1e21}} {{0.00001}} {{1.0}}'),
      'map[inner:map[value:deep]] <nil> true 1e+21 1e-05 1',
    );
  });

  it('reads nested fields; a missing entry is <no value>, its chain too', () => {
    assert.equal(
      text('{{.nested.inner.value}}|{{.missing}}|{{.missing.x.y}}|{{.header.Nope}}'),
      'deep|<no value>|<no value>|<no value>',
    );
    assert.equal(text('{{index .header "Nope"}} {{index .nested "nope"}}'), '[] <nil>');
  });

  it('declares and assigns variables, with $ the data', () => {
    assert.equal(text('{{$x := .method}}{{$x}} {{$.path}} {{$x = "POST"}}{{$x}}'), 'GET /hello POST');
    assert.equal(text('{{with $p := .path}}{{$p}}{{end}}'), '/hello');
  });

  it('trims white space with {{- and -}}, and drops comments', () => {
    assert.equal(text('a  \n {{- .n -}} \n  b{{/* a comment */}}c {{- /* trimmed */ -}} d'), 'a3bcd');
    assert.equal(text('{{-3}}'), '-3'); // a minus without a space is a number
  });
});

describe('GoText: control structures', () => {
  it('if / else if / else, with Go truth', () => {
    const t = compileGoTemplate('{{if eq .m "GET"}}read{{else if eq .m "POST"}}write{{else}}other{{end}}');
    assert.deepEqual(
      ['GET', 'POST', 'PUT'].map((m) => t({ m })),
      ['read', 'write', 'other'],
    );
    assert.equal(
      text(
        '{{if .empty}}y{{else}}n{{end}}{{if .nil}}y{{else}}n{{end}}{{if 0}}y{{else}}n{{end}}{{if .list}}y{{end}}',
      ),
      'nnny',
    );
  });

  it('range over slices, maps (key order), integers, with variables, else, break and continue', () => {
    assert.equal(text('{{range .list}}<{{.}}>{{end}}'), '<a><b><c>');
    assert.equal(text('{{range $i, $v := .list}}{{$i}}={{$v}} {{end}}'), '0=a 1=b 2=c ');
    assert.equal(text('{{range $k, $v := .query}}{{$k}}:{{index $v 0}};{{end}}'), 'a:1;b:2;');
    assert.equal(
      text('{{range .empty}}x{{else}}none{{end}}|{{range .missing}}x{{else}}none{{end}}'),
      'none|none',
    );
    assert.equal(
      text('{{range $i := 4}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 3}}{{break}}{{end}}{{$i}}{{end}}'),
      '02',
    );
  });

  it('with sets dot; else with', () => {
    assert.equal(text('{{with .nested.inner}}{{.value}}{{end}}'), 'deep');
    assert.equal(text('{{with .missing}}x{{else with .n}}n={{.}}{{else}}none{{end}}'), 'n=3');
  });

  it("pipelines pass the value as the last argument; Go's built-ins", () => {
    assert.equal(text('{{.method | printf "%s!"}} {{"a" | print 1}}'), 'GET! 1a');
    assert.equal(
      text('{{len .list}} {{len .path}} {{len .header}} {{index .list 1}} {{index .query "a" 1}}'),
      '3 6 2 b x y',
    );
    assert.equal(
      text('{{slice .list 1}} {{slice .path 1 3}} {{and 1 "" 2}} {{or 0 "" "z"}} {{not .list}}'),
      '[b c] he  z false',
    );
    assert.equal(
      text('{{printf "%d|%5s|%-3s|%05.1f|%q|%x|%v|%t" 42 "ab" "c" 3.14159 "q\\"" 255 .list true}}'),
      '42|   ab|c  |003.1|"q\\""|ff|[a b c]|true',
    );
    assert.equal(text('{{printf "%d" "x"}} {{printf "%s"}}'), '%!d(string=x) %!s(MISSING)');
    assert.equal(text('{{print 1 2 "a" 3 "b"}}|{{println 1 "a"}}'), '1 2a3b|1 a\n');
    assert.equal(text('{{html .html}}'), '&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39; +1&lt;/b&gt;');
    assert.equal(text('{{js "it\'s <x> & y=1"}}'), "it\\'s \\u003Cx\\u003E \\u0026 y\\u003D1");
    assert.equal(text('{{urlquery "a b&c/é"}}'), 'a+b%26c%2F%C3%A9');
    assert.equal(
      text(
        '{{eq .n 3}} {{ne .method "GET"}} {{lt 1 2}} {{le "a" "b"}} {{gt 1.5 2.5}} {{ge 2 2}} {{eq .n 1 2 3}}',
      ),
      'true false true true false true true',
    );
  });
});

describe('GoHTML: contextual escaping', () => {
  it("escapes element text with html/template's escaper (+ too)", () => {
    assert.equal(
      html('<p>{{.html}}</p>'),
      '<p>&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39; &#43;1&lt;/b&gt;</p>',
    );
    assert.equal(html('<p>{{.missing}}|{{.nil}}|{{.list}}</p>'), '<p>||[a b c]</p>');
  });

  it('escapes attribute values, quoted and unquoted', () => {
    assert.equal(
      html('<a title="{{.html}}">'),
      '<a title="&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39; &#43;1&lt;/b&gt;">',
    );
    assert.equal(html('<a title=\'{{"a b"}}\' id={{"a b=c"}}>'), "<a title='a b' id=a&#32;b&#61;c>");
  });

  it('filters and normalises URLs in URL attributes', () => {
    assert.equal(html('<a href="{{"javascript:alert(1)"}}">'), '<a href="#ZgotmplZ">');
    assert.equal(html('<a href="{{"/a b/?x=<1>"}}">'), '<a href="/a%20b/?x=%3c1%3e">');
    assert.equal(html('<a href="/search?q={{"a&b c"}}">'), '<a href="/search?q=a%26b%20c">');
    assert.equal(html('<img src="https://example.com/{{.path}}">'), '<img src="https://example.com//hello">');
  });

  it('removes HTML comments; an action in one writes nothing', () => {
    assert.equal(html('a<!-- secret {{.path}} -->b'), 'ab');
  });

  it('escapes <title> and <textarea> content as text', () => {
    assert.equal(
      html('<title>{{.html}}</title>'),
      '<title>&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39; &#43;1&lt;/b&gt;</title>',
    );
  });

  it('refuses at start-up what it does not escape (script, style, event handlers, between attributes)', () => {
    for (const t of [
      '<script>var x = {{.path}}</script>',
      '<a onclick="f({{.path}})">',
      '<p style="color: {{.path}}">',
      '<input {{.path}}>',
    ])
      assert.throws(() => compileGoTemplate(t, { html: true }), /GoHTML: an action .* is not supported/, t);
    assert.equal(html('<script>var x = 1</script>{{.n}}'), '<script>var x = 1</script>3');
  });

  it('refuses branches that end in different contexts', () => {
    assert.throws(
      () => compileGoTemplate('{{if .n}}<a href="{{end}}x', { html: true }),
      /line 1: \{\{if\}\} branches end in different contexts/,
    );
  });
});

describe('errors', () => {
  const syntax = (t: string, re: RegExp) => {
    assert.throws(
      () => compileGoTemplate(t),
      (err) => err instanceof TemplateSyntaxError && re.test(err.message),
      t,
    );
  };

  it('refuses bad templates at compile time with the line', () => {
    syntax('a\nb\n{{end}}', /^template: line 3: unexpected \{\{end\}\}$/);
    syntax('{{if .n}}\nx', /^template: line 2: unexpected EOF$/);
    syntax('{{else}}', /unexpected \{\{else\}\}/);
    syntax('{{.n', /unclosed action/);
    syntax('{{"abc}}', /unterminated quoted string/);
    syntax('{{/* x }}', /unclosed comment/);
    syntax('{{nope}}', /function "nope" not defined/);
    syntax('{{$x}}', /undefined variable "\$x"/);
    syntax('{{break}}', /\{\{break\}\} outside \{\{range\}\}/);
    syntax('{{if}}{{end}}', /missing value for if/);
    syntax('{{len}}', /wrong number of args for len: want 1 got 0/);
    syntax('{{.n 1}}', /\.n is not a method but has arguments/);
    syntax('{{.n | .m}}', /\.m is not a method but has arguments/);
    syntax('{{template "x"}}', /\{\{template\}\} is not supported/);
    syntax('{{(1}}', /unclosed left paren/);
    syntax('{{3x}}', /bad number syntax/);
    syntax(`${'{{if 1}}'.repeat(101)}${'{{end}}'.repeat(101)}`, /nesting too deep/);
    syntax(`{{${'('.repeat(200)}1${')'.repeat(200)}}}`, /nesting too deep/);
    assert.equal(text(`${'{{if 1}}'.repeat(100)}x${'{{end}}'.repeat(100)}`), 'x');
  });

  it('refuses names the data lacks when told its keys', () => {
    assert.throws(
      () => compileGoTemplate('{{.nope}}', { keys: ['a'] }),
      /unknown template name \.nope; available: \.a/,
    );
    assert.throws(() => compileGoTemplate('{{range .list}}{{$.nope}}{{end}}', { keys: ['list'] }), /\.nope/);
    compileGoTemplate('{{range .list}}{{.anything}}{{end}}', { keys: ['list'] }); // dot is an element there
  });

  it("fails when rendering with Go's message and the line", () => {
    const exec = (t: string, re: RegExp) =>
      assert.throws(
        () => text(t),
        (err) => err instanceof TemplateExecError && re.test(err.message),
        t,
      );
    exec('\n{{index .list 5}}', /^template: line 2: error calling index: index out of range: 5$/);
    exec('{{index .list "a"}}', /cannot index slice\/array with type string/);
    exec('{{.path.x}}', /can't evaluate field x in type string/);
    exec('{{.nil.x}}', /nil pointer evaluating interface \{\}\.x/);
    exec('{{eq .list 1}}', /non-comparable type/);
    exec('{{lt 1 "a"}}', /incompatible types for comparison/);
    exec('{{range .path}}{{end}}', /range can't iterate over \/hello/);
    exec('{{slice .list 2 1}}', /invalid slice index: 2 > 1/);
  });
});
