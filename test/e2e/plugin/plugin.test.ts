/**
 * core/v1 Plugin from a config file, as a user meets it: `--validate` and start-up load the plugin and validate
 * the documents of its kinds like built-in ones; every way a plugin can be wrong is an exit 2 that names the
 * config file and line, the plugin file and, when it threw, where. Most runs are in-process (runInProcess: the
 * CLI's own code, output and exit code); the ones that must be a real process (--validate as typed, a running
 * gateway served through) spawn one. Each test writes its plugin into a folder of its own: Node.js keeps one
 * instance of a module per file, so no test sees another's module.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runInProcess } from '../../helpers/cli.ts';
import { eventually } from '../../helpers/eventually.ts';
import { runCli, startGateway } from '../../helpers/gateway.ts';
import { requestFrom } from '../../helpers/yamlgateway.ts';

const scratch = mkdtempSync(join(tmpdir(), 'aileron-plugin-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The registration of a middleware kind that stamps a response header (inside a plugin function). */
const stampKind = (apiVersion = 'test/v1', kind = 'Stamp') => `
  api.register(api.defineResource({
    apiVersion: '${apiVersion}',
    kind: '${kind}',
    summary: 'stamps a response header',
    spec: api.Obj({
      value: api.Type.String({ minLength: 1, description: 'the header value' }),
      header: api.Type.String({ default: 'x-stamp', description: 'the header name' }),
    }),
    roles: ['Middleware'],
    validate(spec) {
      return spec.value === 'forbidden' ? [{ path: ['value'], message: 'this value is forbidden', hint: 'pick another' }] : [];
    },
    create(_ctx, m) {
      return { middleware: (next) => (req, res) => { res.setHeader(m.spec.header, m.spec.value); return next(req, res); } };
    },
  }));`;

/** A plugin that registers `test/v1 Stamp`, then runs `extra`. */
const stampPlugin = (extra = '') => `export default function plugin(api) {${stampKind()}\n${extra}\n}\n`;

/** `file:line:col` of the first line of `text` that contains `what`, col being where `what` starts. */
function where(file: string, text: string, what: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(what));
  assert.ok(i >= 0, `no ${what}`);
  return `${file}:${i + 1}:${lines[i]!.indexOf(what) + 1}`;
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A config whose first document loads `module`; the server's middleware is a `test/v1 Stamp` with `stampSpec`. */
const config = (module: string, stampSpec = 'value: stamped', stampKind = 'test/v1') => `apiVersion: core/v1
kind: Plugin
spec:
  module: ${module}
---
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "\${GATEWAY_ADDR:-127.0.0.1:0}"
  shutdownTimeout: 5
  middleware: [{apiVersion: ${stampKind}, kind: Stamp}]
  virtualHosts:
    - handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]
---
apiVersion: ${stampKind}
kind: Stamp
spec:
  ${stampSpec}
---
apiVersion: app/v1
kind: EchoHandler
`;

let folders = 0;
/** A fresh folder holding `files` (name -> text); returns its path. */
function folder(files: Record<string, string>): string {
  const dir = join(scratch, `case-${++folders}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const validate = (dir: string) => runInProcess(['--validate', '-f', join(dir, 'config.yaml')]);

describe('core/v1 Plugin', () => {
  it('--validate loads the plugin and validates its kinds (a real process)', async () => {
    const dir = folder({ 'stamp.mjs': stampPlugin(), 'config.yaml': config('./stamp.mjs') });
    const r = await runCli(['--validate', '-f', join(dir, 'config.yaml')]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^configuration is valid: 5 resources from /);
  });

  it('a plugin kind with a bad spec: the field at its line, as for a built-in kind', async () => {
    const text = config('./stamp.mjs', 'value: ""\n  hedaer: x');
    const dir = folder({ 'stamp.mjs': stampPlugin(), 'config.yaml': text });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    const file = join(dir, 'config.yaml');
    assert.match(r.err, new RegExp(`${esc(where(file, text, '""'))}: spec\\.value: `));
    assert.match(r.err, /spec\.value: must not be empty\n {4}expected: at least 1 character/);
    assert.match(
      r.err,
      new RegExp(
        `${esc(where(file, text, 'hedaer'))}: spec\\.hedaer: unknown field "hedaer"[\\s\\S]*did you mean "header"\\?`,
      ),
    );
  });

  it("a plugin kind's own validate() is run, its problem at the field's line", async () => {
    const text = config('./stamp.mjs', 'value: forbidden');
    const dir = folder({ 'stamp.mjs': stampPlugin(), 'config.yaml': text });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    const at = esc(where(join(dir, 'config.yaml'), text, 'forbidden'));
    assert.match(r.err, new RegExp(`${at}: spec\\.value: this value is forbidden\\n[\\s\\S]*test/v1/Stamp`));
  });

  it('a module path that is not a file: no such file, at spec.module, relative to the config folder', async () => {
    const dir = folder({ 'config.yaml': config('./missing.ts') });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /config\.yaml:4:11: spec\.module: cannot read the plugin \S*missing\.ts: no such file\n[\s\S]*fix: {6}a relative path is relative to the folder of the config file/,
    );
    // Its kinds are unknown, and the message says why that may be.
    assert.match(r.err, /unknown kind test\/v1\/Stamp[\s\S]*one of a plugin that failed to load/);
  });

  it('URLs, package names and a folder are refused before anything is loaded', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        'https://example.com/plugin.js',
        /spec\.module: a URL cannot name a plugin: plugins are loaded from files only/,
      ],
      ['data:text/javascript,export default 1', /spec\.module: a URL cannot name a plugin/],
      [
        'some-package',
        /spec\.module: a plugin is named by a path that starts with \.\/, \.\.\/ or \/[\s\S]*re-exports it/,
      ],
      ['./plugin.json', /spec\.module: a plugin module is a \.js, \.mjs, \.cjs, \.ts, \.mts or \.cts file/],
    ];
    for (const [module, error] of cases) {
      const dir = folder({ 'config.yaml': config(JSON.stringify(module)) });
      const r = await validate(dir);
      assert.equal(r.code, 2, module);
      assert.match(r.err, error, module);
      assert.match(r.err, /config\.yaml:4:11: /, module);
    }
    const dir = folder({ 'config.yaml': config('./sub.js') });
    mkdirSync(join(dir, 'sub.js'));
    const r = await validate(dir);
    assert.match(r.err, /spec\.module: \S*sub\.js\S* is not a file/);
  });

  it('a Go plugin (.so) is refused, saying what to do instead', async () => {
    const dir = folder({ 'config.yaml': config('./_example/goplugin/goplugin.so') });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /config\.yaml:4:11: spec\.module: \.so files cannot be loaded as plugins[\s\S]*fix: {6}a Go plugin \(\.so\) cannot be loaded into Node\.js: rewrite it as a JavaScript or TypeScript module/,
    );
  });

  it('a plugin that throws while loading: its file and the first frame, and none of its kinds', async () => {
    const dir = folder({
      'boom.mjs': 'export default function plugin() {}\nconst config = undefined;\nconfig.read();\n',
      'config.yaml': config('./boom.mjs'),
    });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /config\.yaml:4:11: spec\.module: the plugin \S*boom\.mjs failed to load: TypeError: Cannot read properties of undefined \(reading 'read'\)/,
    );
    assert.match(r.err, new RegExp(`found: +at \\S*${join(dir, 'boom.mjs')}:3:8`));
  });

  it('a plugin that throws after registering a kind registers none of them', async () => {
    const plugin = stampPlugin("  throw new Error('second kind not ready');");
    const text = config('./half.mjs');
    const dir = folder({ 'half.mjs': plugin, 'config.yaml': text });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /spec\.module: the plugin \.\/half\.mjs threw while registering its kinds: Error: second kind not ready/,
    );
    assert.match(
      r.err,
      new RegExp(
        `found: +at plugin \\(${esc(where(join(dir, 'half.mjs'), plugin, 'throw').replace(/:\d+$/, ''))}:\\d+\\)`,
      ),
    );
    // The Stamp it registered before throwing is not there.
    const line = text.slice(0, text.indexOf('\nkind: Stamp\n') + 1).split('\n').length;
    assert.match(r.err, new RegExp(`config\\.yaml:${line}:7: kind: unknown kind test/v1/Stamp`));
  });

  it('a plugin with a syntax error names its line', async () => {
    const dir = folder({
      'bad.ts': 'export default function (api {\n}\n',
      'config.yaml': config('./bad.ts'),
    });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(r.err, /the plugin \S*bad\.ts failed to load: SyntaxError/);
  });

  it('a kind that shadows a built-in kind is refused, naming both, and nothing is registered', async () => {
    const dir = folder({
      'shadow.mjs': `export default function plugin(api) {${stampKind()}${stampKind('app/v1', 'EchoHandler')}\n}\n`,
      'config.yaml': config('./shadow.mjs'),
    });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /config\.yaml:4:3: spec: core\/v1\/Plugin\/default\/default registers the kind app\/v1\/EchoHandler, which is a built-in kind\n {4}found: +app\/v1\/EchoHandler from \S*config\.yaml:4 and the built-in app\/v1\/EchoHandler/,
    );
    assert.match(r.err, /a kind cannot replace another/);
    assert.match(r.err, /unknown kind test\/v1\/Stamp/); // all or none: its other kind is not registered
  });

  it('two plugins registering one kind: the second is refused, naming the first', async () => {
    const dir = folder({
      'a.mjs': stampPlugin(),
      'b.mjs': stampPlugin(),
      'config.yaml': `apiVersion: core/v1\nkind: Plugin\nmetadata: {name: b}\nspec: {module: ./b.mjs}\n---\n${config('./a.mjs')}`,
    });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /registers the kind test\/v1\/Stamp, which core\/v1\/Plugin\/default\/(a|b|default) \(\S*config\.yaml:\d+\) registers already/,
    );
  });

  it('a plugin must export a function that registers kinds synchronously', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['none.mjs', 'export const x = 1;\n', /has no default export that is a function/],
      [
        'async.mjs',
        'export default async function (api) {}\n',
        /returned a promise: its function must register its kinds synchronously/,
      ],
      ['empty.mjs', 'export default function (api) {}\n', /registered no kind/],
      ['tla.mjs', 'await Promise.resolve();\nexport default function (api) {}\n', /uses top-level await/],
      [
        'shape.mjs',
        "export default function (api) { api.register({ apiVersion: 'test/v1', kind: 'Stamp', summary: 's', spec: api.Obj({}), roles: ['Middleware'] }); }\n",
        /registered a malformed kind \(#1\): test\/v1\/Stamp has no create function/,
      ],
      [
        'version.mjs',
        "export default function (api) { api.register(api.defineResource({ apiVersion: 'example.com/v1', kind: 'Stamp', summary: 's', spec: api.Obj({}), roles: ['Middleware'], create() {} })); }\n",
        /apiVersion "example\.com\/v1" is not a group\/version such as example\/v1/,
      ],
    ];
    for (const [name, text, error] of cases) {
      const dir = folder({ [name]: text, 'config.yaml': config(`./${name}`) });
      const r = await validate(dir);
      assert.equal(r.code, 2, name);
      assert.match(r.err, error, name);
      assert.match(r.err, /config\.yaml:4:11: spec\.module: /, name);
    }
  });

  it('serves through the kinds of a plugin (a real gateway)', async () => {
    const dir = folder({
      'stamp.ts': stampPlugin().replace('plugin(api)', 'plugin(api: any): void'),
      'config.yaml': config('./stamp.ts'),
    });
    const gw = await startGateway(join(dir, 'config.yaml'), { timeoutMs: 30_000 });
    try {
      const r = await requestFrom(Number(new URL(gw.url).port), { path: '/x' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-stamp'], 'stamped');
    } finally {
      await gw.stop();
    }
  });

  it('a tripperware kind around the proxy, and a kind that resolves a reference with api.roles (a real gateway)', async () => {
    const upstream = http.createServer((req, res) => res.end(`upstream saw ${req.url}`));
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const port = (upstream.address() as AddressInfo).port;
    const plugin = `export default function plugin(api) {${stampKind()}
  api.register(api.defineResource({
    apiVersion: 'test/v1', kind: 'Logged', summary: 'logs upstream requests', spec: api.Obj({}), roles: ['Tripperware'],
    create(ctx) {
      return { tripperware: (next) => (options, handler) => { ctx.logger.info('upstream request', { method: options.method, path: options.path }); return next(options, handler); } };
    },
  }));
  api.register(api.defineResource({
    apiVersion: 'test/v1', kind: 'Wrap', summary: 'runs another middleware', roles: ['Middleware'],
    spec: api.Obj({ inner: api.RefTo('Middleware', { description: 'the middleware to run' }) }),
    async create(ctx, m) { return await ctx.get(m.spec.inner, api.roles.Middleware, ['spec', 'inner']); },
  }));
}
`;
    const yaml = config('./more.mjs', 'value: wrapped')
      .replace('[{apiVersion: test/v1, kind: Stamp}]', '[{apiVersion: test/v1, kind: Wrap}]')
      .replace(
        '{handler: {apiVersion: app/v1, kind: EchoHandler}}',
        '{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}',
      )
      .concat(`---
apiVersion: test/v1
kind: Wrap
spec:
  inner: {apiVersion: test/v1, kind: Stamp}
---
apiVersion: test/v1
kind: Logged
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  tripperwares: [{apiVersion: test/v1, kind: Logged}]
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "http://127.0.0.1:${port}"}]
`);
    const dir = folder({ 'more.mjs': plugin, 'config.yaml': yaml });
    const gw = await startGateway(join(dir, 'config.yaml'), { timeoutMs: 30_000 });
    try {
      const r = await requestFrom(Number(new URL(gw.url).port), { path: '/via/proxy' });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'upstream saw /via/proxy');
      assert.equal(r.headers['x-stamp'], 'wrapped');
      await eventually(() => {
        const line = gw.logs().find((l) => l.msg === 'upstream request');
        assert.deepEqual(
          [line?.method, line?.path, line?.resource],
          ['GET', '/via/proxy', 'test/v1/Logged/default/default'],
        );
      });
    } finally {
      await gw.stop();
      upstream.close();
    }
  });

  it('a reload keeps the loaded plugin, and refuses one whose file changed: restart to load it', async () => {
    const dir = folder({ 'stamp.mjs': stampPlugin(), 'config.yaml': config('./stamp.mjs') });
    const gw = await startGateway(join(dir, 'config.yaml'), { timeoutMs: 30_000 });
    try {
      const port = Number(new URL(gw.url).port);
      // An unchanged plugin: the new configuration's Stamp (a new value) serves.
      writeFileSync(join(dir, 'config.yaml'), config('./stamp.mjs', 'value: second'));
      gw.child.kill('SIGHUP');
      await eventually(async () => {
        assert.equal((await requestFrom(port, { path: '/' })).headers['x-stamp'], 'second');
      });
      writeFileSync(join(dir, 'stamp.mjs'), stampPlugin().replace('x-stamp', 'x-changed'));
      writeFileSync(join(dir, 'config.yaml'), config('./stamp.mjs', 'value: third'));
      gw.child.kill('SIGHUP');
      await eventually(() =>
        assert.match(gw.stdout(), /the plugin \S*stamp\.mjs changed since the gateway loaded it/),
      );
      assert.match(gw.stdout(), /restart the gateway to run the new code/);
      assert.equal((await requestFrom(port, { path: '/' })).headers['x-stamp'], 'second');
    } finally {
      await gw.stop();
    }
  });
});

describe('a plugin kind without its plugin', () => {
  it('is an unknown kind, with a hint to load the plugin', async () => {
    const text = config('./stamp.mjs').split('---\n').slice(1).join('---\n');
    const dir = folder({ 'config.yaml': text });
    const r = await validate(dir);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /unknown kind test\/v1\/Stamp[\s\S]*fix: {6}no kind of test\/v1 is registered: if a plugin adds it, load the plugin with a core\/v1 Plugin document \(docs\/extending\.md\)/,
    );
  });
});

describe('a plugin kind in -t and --workers', () => {
  it('-f <config> -t prints a plugin kind with its fields, defaults and descriptions', async () => {
    const dir = folder({ 'stamp.mjs': stampPlugin(), 'config.yaml': config('./stamp.mjs') });
    const r = await runInProcess(['-f', join(dir, 'config.yaml'), '-t', 'test/v1/Stamp']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^# test\/v1 Stamp: stamps a response header\n/);
    assert.match(r.out, /\n {2}# the header name \(a string\)\n {2}header: x-stamp\n/);
    assert.match(r.out, /\n {2}# the header value \(a string; required; not set\)\n {2}# value: <string>\n/);
  });

  it('every worker loads the plugin and serves through its kinds', async () => {
    const dir = folder({ 'stamp.mjs': stampPlugin(), 'config.yaml': config('./stamp.mjs') });
    // Three processes each load the sources and the plugin: on a loaded machine that takes a while.
    const gw = await startGateway(join(dir, 'config.yaml'), { args: ['--workers', '2'], timeoutMs: 60_000 });
    try {
      // Each worker logs its listener once it has loaded the plugin and created the plugin's Stamp.
      await eventually(() => assert.equal(gw.stdout().match(/server started\. listening on/g)?.length, 2), {
        deadline: 60_000,
      });
      const port = Number(new URL(gw.url).port);
      for (let i = 0; i < 4; i++)
        assert.equal((await requestFrom(port, { path: '/' })).headers['x-stamp'], 'stamped');
    } finally {
      await gw.stop();
    }
  });
});
