import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { check } from '../../kernel/schema.ts';
import {
  compileContent,
  compileTemplate,
  MIMEContentSpec,
  mediaRanges,
  negotiate,
  rangeMatches,
} from './mimecontent.ts';

const keys = ['status', 'statusText', 'code', 'kind'];
const data = { status: 404, statusText: 'Not Found', code: 'E2131', kind: 'CoreServerNotFound' };

describe('compileTemplate', () => {
  it('Text is literal, even with braces', () => {
    assert.equal(compileTemplate('{{.status}}', 'Text', keys)(data), '{{.status}}');
  });

  it('GoText substitutes {{.name}} with spacing, trim markers and comments', () => {
    const r = compileTemplate(
      '{"status": {{.status}}, "text": "{{ .statusText }}"}{{/* c */}}',
      'GoText',
      keys,
    );
    assert.equal(r(data), '{"status": 404, "text": "Not Found"}');
    assert.equal(compileTemplate('a  {{- .code -}}  b', 'GoText', keys)(data), 'aE2131b');
  });

  it('GoHTML escapes values', () => {
    const r = compileTemplate('<p>{{.kind}}</p>', 'GoHTML', ['kind']);
    assert.equal(r({ kind: '<script>"x"&' }), '<p>&lt;script&gt;&#34;x&#34;&amp;</p>');
  });

  it('rejects unknown names and bad templates at compile time, naming the line', () => {
    assert.throws(() => compileTemplate('{{.nope}}', 'GoText', keys), /unknown template name \.nope/);
    assert.equal(compileTemplate('{{if .status}}x{{end}}', 'GoText', keys)(data), 'x');
    assert.throws(
      () => compileTemplate('a\n{{end}}', 'GoText', keys),
      /^Error: template: line 2: unexpected \{\{end\}\}$/,
    );
    assert.throws(() => compileTemplate('{{status}}', 'GoText', keys), /function "status" not defined/);
    assert.equal(compileTemplate('s={{status}}', 'GoText', keys, { allowBare: true })(data), 's=404');
  });

  it('reads templateFile, which wins over template, and names a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-mime-'));
    const file = join(dir, 'err.html');
    writeFileSync(file, '<h1>{{.status}}</h1>');
    const spec = check(MIMEContentSpec, {
      mimeType: 'text/html',
      templateType: 'GoHTML',
      template: 'ignored',
      templateFile: file,
    }).value as MIMEContentSpec;
    assert.equal(compileContent(spec, keys).render(data), '<h1>404</h1>');
    assert.throws(() => compileContent({ ...spec, templateFile: join(dir, 'missing') }, keys), /ENOENT/);
  });
});

describe('Accept negotiation', () => {
  const contents = [{ mimeType: 'application/json' }, { mimeType: 'text/plain' }, { mimeType: 'text/html' }];

  it('splits media ranges in header order, ignoring parameters', () => {
    assert.deepEqual(mediaRanges('text/html;q=0.1, Application/JSON ;q=1,,'), [
      'text/html',
      'application/json',
    ]);
    assert.deepEqual(mediaRanges(undefined), []);
  });

  it('takes the first content matching the first range that matches anything (q-values ignored)', () => {
    assert.equal(negotiate(contents, 'text/html;q=0.1, application/json')?.mimeType, 'text/html');
    assert.equal(negotiate(contents, 'image/png, text/*')?.mimeType, 'text/plain');
    assert.equal(negotiate(contents, '*/*')?.mimeType, 'application/json');
    assert.equal(negotiate(contents, 'image/png'), undefined);
    assert.equal(negotiate(contents, undefined), undefined);
  });

  it('matches ranges as globs', () => {
    assert.ok(rangeMatches('text/*', 'text/plain'));
    assert.ok(!rangeMatches('text/*', 'application/json'));
    assert.ok(!rangeMatches('text/[', 'text/x'), 'a malformed glob matches nothing but the same text');
    assert.ok(rangeMatches('text/[', 'text/['));
  });
});
