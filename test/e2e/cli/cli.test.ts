/**
 * The `aileron` command as a user runs it: a real process, its exit code and what it prints. Flag and
 * validation details are unit-tested in src/cli.test.ts; this covers what needs a process: running, signals,
 * start-up and runtime failures.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { echoConfig, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}

describe('aileron process', () => {
  it('no arguments: help on stdout, exit 0', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: aileron/);
    assert.equal(r.stderr, '');
  });

  it('an unknown flag: exit 2', async () => {
    const r = await runCli(['--frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown option '--frobnicate'/);
  });

  it('--validate: exit 0 for a good config, 2 for a bad one', async () => {
    const good = await runCli(['--validate', '-f', writeConfig(echoConfig('127.0.0.1:0'))]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^configuration is valid: 3 resources from /);
    const bad = await runCli([
      '--validate',
      '-f',
      writeConfig(echoConfig('127.0.0.1:0').replace('kind: EchoHandler\n', 'kind: EchoHandle\n')),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown kind app\/v1\/EchoHandle\n/);
    assert.match(bad.stderr, /did you mean app\/v1\/EchoHandler\?/);
  });

  it('serves, and stops normally on SIGTERM: exit 0, shutdown logged', async () => {
    const gw = await startGateway(writeConfig(echoConfig('127.0.0.1:0')));
    const res = await fetch(`${gw.url}/hello`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^URI {4}: \/hello$/m);
    assert.equal(await gw.stop('SIGTERM'), 0);
    const messages = gw.logs().map((l) => l.msg);
    assert.ok(
      messages.some((m) => typeof m === 'string' && m.startsWith('server stopped')),
      gw.stdout(),
    );
  });

  it('SIGINT (Ctrl-C) is a normal stop too', async () => {
    const gw = await startGateway(writeConfig(echoConfig('127.0.0.1:0')));
    assert.equal(await gw.stop('SIGINT'), 0);
  });

  it('a port already in use: exit 2 like every config problem, names the field, its file:line and the resource; nothing else starts', async () => {
    const { server, port } = await listen();
    try {
      // Two servers: the first one's port is free, but it must not start serving when the second cannot bind.
      const config = echoConfig('127.0.0.1:0')
        .replace(
          '      kind: HTTPServer\n',
          '      kind: HTTPServer\n    - {apiVersion: core/v1, kind: HTTPServer, name: busy}\n',
        )
        .concat(`---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: busy}
spec:
  addr: "127.0.0.1:${port}"
`);
      const r = await runCli(['-f', writeConfig(config)]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `config\\.yaml:25:9: spec\\.addr: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use\n` +
            ' {4}in: {7}core/v1/HTTPServer/default/busy\n {4}fix: {6}stop the process that listens there',
        ),
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(r.stdout, /server started/, 'the other server never started');
    } finally {
      server.close();
    }
  });

  it('a problem found while creating objects (two handlers on one route): exit 2, names the handler entry', async () => {
    const twice = '        - handler: {apiVersion: app/v1, kind: EchoHandler}\n';
    const r = await runCli(['-f', writeConfig(echoConfig('127.0.0.1:0', twice))]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /config\.yaml:\d+:\d+: spec\.virtualHosts\[0\]\.handlers\[1\]: two handlers are registered for \//,
    );
  });
});

describe('the aileron command (bin/aileron.js)', () => {
  // /debug/vars reports each process's pid and Node options; the command is run as users run it, through its
  // shebang, so this fails if the shebang stops passing the option or the workers stop inheriting it.
  const withVars = echoConfig('127.0.0.1:0').replace(
    '  shutdownTimeout: 5\n',
    '  shutdownTimeout: 5\n  enableExpvar: true\n',
  );

  // bin/aileron.js's shebang: docs/operations.md, Memory, says why each.
  const Options = ['--max-semi-space-size=16', '--v8-pool-size=1', '--no-allocation-site-pretenuring'];

  async function vars(url: string): Promise<{ pid: number; execArgv: string[]; heapSpaces: object }> {
    const res = await fetch(`${url}/debug/vars`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    return (await res.json()) as { pid: number; execArgv: string[]; heapSpaces: object };
  }

  it('starts Node with a 16 MiB young generation, one V8 background thread and no allocation-site pretenuring', async () => {
    const gw = await startGateway(writeConfig(withVars), { command: 'bin' });
    try {
      const v = await vars(gw.url);
      assert.deepEqual(v.execArgv, Options);
      assert.ok('new_space' in v.heapSpaces, JSON.stringify(v.heapSpaces));
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });

  it('--workers: every worker runs with the same options', async () => {
    const gw = await startGateway(writeConfig(withVars), { command: 'bin', args: ['--workers', '2'] });
    try {
      // Both workers listen before the primary hands connections to either in turn.
      await waitForLog(gw, /"msg":"2 workers are serving /);
      const seen = new Map<number, string[]>();
      // Connections go to the workers in turn; a few requests on new connections reach both.
      await eventually(
        async () => {
          const v = await vars(gw.url);
          seen.set(v.pid, v.execArgv);
          return seen.size === 2;
        },
        { what: 'both workers answered' },
      );
      for (const argv of seen.values()) assert.deepEqual(argv, Options);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
