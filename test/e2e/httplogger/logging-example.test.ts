/**
 * AILERON's logging example (the compatibility corpus, read-only) runs as written but for its listen address: an
 * SLogger as the default logger writing JSON to ./logs/application.log (relative to the working directory, so the
 * gateway runs in a temporary folder) and copying every line to stdout, and an HTTPLogger in front of its
 * TemplateHandler, which answers /contents/ with 500 "AILERON Gateway".
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';

const repo = resolve(import.meta.dirname, '../../..');
// As test/e2e/compat/corpus.test.ts: beside the repository, or where AILERON_EXAMPLES points.
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const example = resolve(corpus, 'logging/config.yaml');

let gw: RunningGateway | undefined;
const dir = mkdtempSync(join(tmpdir(), 'aileron-logging-'));
after(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("AILERON's logging example", { skip: !existsSync(example) && `no corpus at ${corpus}` }, () => {
  it('writes the JSON log to ./logs/application.log and stdout, with an access-log entry per request', async () => {
    const original = readFileSync(example, 'utf8');
    assert.match(original, /addr: ":8080"/);
    const config = original.replace('addr: ":8080"', 'addr: "127.0.0.1:0"');
    writeFileSync(join(dir, 'config.yaml'), config);
    copyFileSync(example, join(dir, 'original.yaml')); // for a reader of a failure: what was changed
    gw = await startGateway('config.yaml', {
      exec: { file: process.execPath, args: [join(repo, 'src/cli.ts')], cwd: dir },
      timeoutMs: 30_000,
    });

    const res = await fetch(`${gw.url}/contents/`, { headers: { accept: 'text/plain' } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'AILERON Gateway\n');

    const [line] = await waitForLog(gw, /^\{.*"msg":"server"\}$/);
    const entry = JSON.parse(line![0]) as {
      level: string;
      request: { path: string; method: string; header?: Record<string, string> };
      response: { status: number };
    };
    assert.equal(entry.level, 'INFO');
    assert.equal(entry.request.path, '/contents/');
    assert.equal(entry.response.status, 500);
    // The same lines in the file (outputTarget File, logDir ./logs). The example rotates it every 10 s (cron
    // "*/10 * * * * *"), so earlier lines may be in an archive beside it by now: read them all.
    const logs = join(dir, 'logs');
    await eventually(() => {
      assert.ok(existsSync(join(logs, 'application.log')));
      const text = readdirSync(logs)
        .map((name) => readFileSync(join(logs, name), 'utf8'))
        .join('');
      assert.match(text, /server started\. listening on 127\.0\.0\.1:\d+/);
      assert.match(text, /"msg":"server"/);
      assert.match(text, /"path":"\/contents\/"/);
    });
  });
});
