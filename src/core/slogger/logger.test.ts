import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from '../../kernel/schema.ts';
import { compileReplacer, ReplacerSpec } from '../common/replacer.ts';
import { timeFormatter } from '../common/timefmt.ts';
import { applyFieldReplacers, createLogger, type LoggerConfig } from './logger.ts';
import type { Sink } from './output.ts';

function memorySink(): Sink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, discards: false, write: (l) => void lines.push(l), flush() {}, close: async () => {} };
}

function make(overrides: Partial<LoggerConfig> = {}) {
  const sink = memorySink();
  const logger = createLogger({
    level: 'info',
    sink,
    unstructured: false,
    outputTime: timeFormatter('2006-01-02 15:04:05', 'UTC'),
    location: false,
    fieldReplacers: [],
    ...overrides,
  });
  const json = () => sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, sink, json };
}

const replacer = (spec: unknown) => compileReplacer(check(ReplacerSpec, spec).value as ReplacerSpec);

describe('SLogger lines', () => {
  it('writes one JSON object per line with level name, time, bindings, attributes and msg', () => {
    const { logger, sink, json } = make();
    logger
      .child({ resource: 'core/v1/HTTPServer/default/web' })
      .info('server started. listening on 127.0.0.1:8080', { addr: '127.0.0.1:8080' });
    assert.equal(sink.lines.length, 1);
    assert.ok(sink.lines[0]!.endsWith('\n'));
    assert.match(
      sink.lines[0]!,
      /"resource":"core\/v1\/HTTPServer\/default\/web".*server started\. listening on 127\.0\.0\.1:8080"/,
    );
    const [line] = json();
    assert.equal(line!.level, 'INFO');
    assert.match(line!.time as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(line!.addr, '127.0.0.1:8080');
    assert.equal(line!.msg, 'server started. listening on 127.0.0.1:8080');
  });

  it('filters by level; a disabled level is a shared no-op', () => {
    const { logger, json } = make({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e', { status: 500 });
    assert.deepEqual(
      json().map((l) => [l.level, l.msg]),
      [
        ['WARN', 'w'],
        ['ERROR', 'e'],
      ],
    );
    assert.equal(logger.enabled('info'), false);
    assert.equal(logger.enabled('error'), true);
    assert.equal(logger.debug, logger.info, 'both disabled methods are the same empty function');
  });

  it('prints Trace as DEBUG, like AILERON', () => {
    const { logger, json } = make({ level: 'trace' });
    logger.debug('d');
    assert.equal(json()[0]!.level, 'DEBUG');
    assert.equal(logger.enabled('trace'), true);
  });

  it('adds the datetime group and the caller location when configured', () => {
    const { logger, json } = make({
      datetime: {
        date: timeFormatter('2006-01-02', 'UTC'),
        time: timeFormatter('15:04:05.000', 'UTC'),
        zone: 'UTC',
      },
      location: true,
    });
    function callerFunction() {
      logger.info('here');
    }
    callerFunction();
    const [line] = json();
    const dt = line!.datetime as Record<string, string>;
    assert.match(dt.date!, /^\d{4}-\d\d-\d\d$/);
    assert.match(dt.time!, /^\d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(dt.zone, 'UTC');
    const loc = line!.location as Record<string, unknown>;
    assert.equal(loc.file, 'src/core/slogger/logger.test.ts');
    assert.equal(loc.func, 'callerFunction');
    assert.ok((loc.line as number) > 0);
  });

  it('serializes errors given as attributes', () => {
    const { logger, json } = make();
    logger.error('failed', { error: new Error('boom') });
    const err = json()[0]!.error as Record<string, string>;
    assert.equal(err.message, 'boom');
    assert.match(err.stack!, /Error: boom/);
  });

  it('writes raw lines (custom access-log formats) when INFO is enabled', () => {
    const { logger, sink } = make();
    logger.writeLine('127.0.0.1 GET / 200');
    logger.writeLine('ends with newline\n');
    assert.deepEqual(sink.lines, ['127.0.0.1 GET / 200\n', 'ends with newline\n']);
    const quiet = make({ level: 'warn' });
    quiet.logger.writeLine('dropped');
    assert.deepEqual(quiet.sink.lines, []);
  });

  it('writes nothing and reports every level disabled on a discarding output', () => {
    const logger = createLogger({
      level: 'debug',
      sink: { discards: true, write: () => assert.fail('written'), flush() {}, close: async () => {} },
      unstructured: false,
      outputTime: () => '',
      location: false,
      fieldReplacers: [],
    });
    logger.error('x');
    assert.equal(logger.enabled('error'), false);
  });
});

describe('SLogger unstructured (text) lines', () => {
  it('writes key=value pairs, quoting where needed, groups as dotted keys', () => {
    const { logger, sink } = make({ unstructured: true });
    logger.child({ resource: 'core/v1/X/default/a' }).info('request done', {
      request: { id: 'abc', path: '/a b' },
      status: 200,
      empty: '',
    });
    assert.match(
      sink.lines[0]!,
      /^time="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d" level=INFO msg="request done" resource=core\/v1\/X\/default\/a request\.id=abc request\.path="\/a b" status=200 empty=""\n$/,
    );
  });
});

describe('SLogger fieldReplacers', () => {
  it('masks string fields by dotted path and removes fields without a replacer', () => {
    const { logger, json } = make({
      fieldReplacers: [
        { path: ['request', 'header', 'Authorization'], replace: replacer({ fixed: { value: '***' } }) },
        { path: ['password'], replace: undefined },
        { path: ['resource'], replace: replacer({ left: { char: '#', length: 7 } }) },
        { path: ['status'], replace: replacer({ fixed: { value: 'x' } }) },
        { path: ['msg'], replace: replacer({ regexp: { pattern: '\\d+', replace: 'N' } }) },
      ],
    });
    const attrs = {
      request: { header: { Authorization: 'Bearer t', Accept: '*/*' } },
      password: 'p',
      status: 200,
    };
    logger.child({ resource: 'core/v1/X/default/a' }).info('user 42 logged in', attrs);
    const [line] = json();
    assert.deepEqual(line!.request, { header: { Authorization: '***', Accept: '*/*' } });
    assert.equal('password' in line!, false);
    assert.equal(line!.status, 200, 'only strings are replaced');
    assert.equal(line!.resource, '#######/X/default/a');
    assert.equal(line!.msg, 'user N logged in');
    assert.equal(attrs.request.header.Authorization, 'Bearer t', "the caller's object is not changed");
  });

  it('leaves objects alone when the path does not exist', () => {
    const obj = { a: { b: 1 } };
    assert.equal(applyFieldReplacers(obj, [{ path: ['a', 'c', 'd'], replace: undefined }]), obj);
    assert.equal(applyFieldReplacers(obj, [{ path: ['x'], replace: undefined }]), obj);
  });
});
