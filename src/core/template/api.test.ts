import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '../../kernel/registry.ts';
import { defaults } from '../../kernel/schema.ts';
import { resource } from './api.ts';

function load(doc: string): Registry {
  const registry = new Registry().register(resource);
  registry.loadText('template.yaml', doc, {});
  return registry;
}

describe('core/v1 TemplateHandler resource', () => {
  it("has AILERON's defaults: no contents; a content is text/plain, 200, Text", () => {
    assert.deepEqual(defaults(resource.spec), { patterns: [], methods: [], mimeContents: [] });
    const registry = load(
      'apiVersion: core/v1\nkind: TemplateHandler\nspec:\n  mimeContents: [{template: hi}]\n',
    );
    const [manifest] = registry.manifests();
    assert.deepEqual((manifest!.spec as { mimeContents: unknown[] }).mimeContents[0], {
      mimeType: 'text/plain',
      statusCode: 200,
      header: {},
      templateType: 'Text',
      template: 'hi',
      templateFile: '',
    });
    assert.deepEqual(resource.roles, ['Handler']);
  });

  it("loads AILERON's configs unchanged (its example's inline contents)", () => {
    load(`apiVersion: core/v1
kind: TemplateHandler
spec:
  patterns: ["/contents/"]
  mimeContents:
    - mimeType: text/plain
      statusCode: 500
      templateType: Text
      template: |
        Hello! AILERON Gateway!
    - mimeType: application/json
      statusCode: 500
      templateType: GoText
      template: |
        {
          "hello": "AILERON Gateway!"
        }
    - mimeType: text/html
      templateType: GoHTML
      template: '<p>{{ .proto }} {{ .header }} {{index .header "User-Agent" }} {{ .query }}</p>'
`);
  });

  it('refuses bad templates, statuses and headers at their line, naming the template line', () => {
    assert.throws(
      () =>
        load(`apiVersion: core/v1
kind: TemplateHandler
spec:
  mimeContents:
    - templateType: GoText
      template: "{{if .path}}"
    - statusCode: 42
      header: {"bad name": x}
`),
      (err: unknown) => {
        const text = String(err);
        assert.match(
          text,
          /template\.yaml:6:17: spec\.mimeContents\[0\]\.template: template: line 1: unexpected EOF/,
        );
        assert.match(
          text,
          /template\.yaml:7:19: spec\.mimeContents\[1\]\.statusCode: statusCode must be a response status/,
        );
        assert.match(text, /spec\.mimeContents\[1\]\.header\.bad name: /);
        return true;
      },
    );
  });
});
