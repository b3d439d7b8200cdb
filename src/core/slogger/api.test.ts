import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../kernel/problems.ts';
import { Registry } from '../../kernel/registry.ts';
import { defaults } from '../../kernel/schema.ts';
import { FinalizerRole, LoggerRole } from '../roles.ts';
import { resource } from './api.ts';
import { createDefaultLogger } from './default.ts';

const ref = { apiVersion: 'core/v1', kind: 'SLogger', namespace: 'default', name: 'default' };

function load(spec: string): Registry {
  const registry = new Registry().register(resource);
  registry.loadText('slog.yaml', `apiVersion: core/v1\nkind: SLogger\nspec:\n${spec}`, {});
  return registry;
}

describe('core/v1 SLogger resource', () => {
  it("has AILERON's defaults and plays Logger and Finalizer", () => {
    const d = defaults(resource.spec) as Record<string, unknown>;
    assert.equal(d.level, 'Info');
    assert.equal(d.outputTimeFormat, '2006-01-02 15:04:05');
    assert.equal(d.dateFormat, '2006-01-02');
    assert.equal(d.timeFormat, '15:04:05.000');
    assert.equal((d.logOutput as Record<string, unknown>).outputTarget, 'Stdout');
    assert.equal((d.logOutput as Record<string, unknown>).rotateSize, 1024);
    assert.deepEqual(resource.roles, ['Logger', 'Finalizer']);
  });

  it('writes JSON lines to a file, masking fields, and closes it when the registry closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-slogger-'));
    const registry = load(`
  level: Debug
  noLocation: true
  logOutput:
    outputTarget: File
    logDir: ${JSON.stringify(join(dir, 'logs'))}
    logFileName: gw.log
    timeZone: UTC
  fieldReplacers:
    - field: user.password
    - field: user.name
      replacer: {right: {char: "*", length: 3}}
`);
    const logger = await registry.get(ref, LoggerRole);
    assert.ok(FinalizerRole.is(logger));
    logger.child({ resource: 'r' }).debug('signed in', { user: { name: 'alice', password: 'pw' } });
    await logger.finalize();
    await registry.close();
    const line = JSON.parse(readFileSync(join(dir, 'logs', 'gw.log'), 'utf8'));
    assert.equal(line.level, 'DEBUG');
    assert.equal(line.resource, 'r');
    assert.deepEqual(line.user, { name: 'al***' });
    assert.equal(line.datetime.zone, 'UTC');
    assert.equal(line.msg, 'signed in');
  });

  it('reports invalid zones, cron expressions, patterns and replacers with their field', () => {
    assert.throws(
      () =>
        load(`
  logOutput:
    timeZone: Mars/Base
    cron: "61 * * * *"
    archivedFilePattern: "app.%Q"
    outputRedirectTarget: File
  fieldReplacers:
    - field: a
      replacer: {regexp: {pattern: "("}}
`),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /spec\.logOutput\.timeZone: unknown time zone "Mars\/Base"/);
        assert.match(err.message, /spec\.logOutput\.cron: invalid cron expression: minute/);
        assert.match(err.message, /spec\.logOutput\.archivedFilePattern: unknown specifier %Q/);
        assert.match(
          err.message,
          /spec\.logOutput\.outputRedirectTarget: the redirect target cannot be File/,
        );
        assert.match(
          err.message,
          /spec\.fieldReplacers\[0\]\.replacer\.regexp\.pattern: invalid regular expression/,
        );
        return true;
      },
    );
  });

  it('fails to start when the log file cannot be created, naming the field', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'aileron-slogger-')), 'a-file');
    writeFileSync(file, '');
    const registry = load(
      `  logOutput: {outputTarget: File, logDir: ${JSON.stringify(join(file, 'logs'))}}\n`,
    );
    await assert.rejects(registry.get(ref, LoggerRole), /spec\.logOutput: cannot open the log file: ENOTDIR/);
  });

  it('the built-in default logger takes its level from GATEWAY_LOG_LEVEL', () => {
    assert.equal(createDefaultLogger({ GATEWAY_LOG_LEVEL: 'DEBUG' }).enabled('debug'), true);
    assert.equal(createDefaultLogger({ GATEWAY_LOG_LEVEL: 'warn' }).enabled('info'), false);
    assert.equal(createDefaultLogger({}).enabled('info'), true);
    assert.equal(createDefaultLogger({ GATEWAY_LOG_LEVEL: 'bogus' }).enabled('debug'), false);
  });
});
