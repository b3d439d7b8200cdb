/**
 * examples/compression (AILERON's example with a local upstream): does what its README says. The example's
 * upstream.js runs as a child process, as the README starts it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const example = resolve(import.meta.dirname, '../../../examples/compression');
let upstream: ChildProcess;
let gw: RunningGateway;

before(async () => {
  upstream = spawn(process.execPath, [resolve(example, 'upstream.js')], {
    env: { ...process.env, UPSTREAM_ADDR: '127.0.0.1:0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const addr = await within(
    new Promise<string>((done) => {
      let out = '';
      upstream.stdout!.on('data', (c: Buffer) => {
        out += c;
        const m = /listening on (\S+)/.exec(out);
        if (m) done(m[1]!);
      });
    }),
    { what: 'the example upstream listens' },
  );
  gw = await startGateway(example, {
    env: { GATEWAY_ADDR: '127.0.0.1:0', UPSTREAM_URL: `http://${addr}` },
    timeoutMs: 30_000, // a busy machine can take longer than the default to start a Node process
  });
});
after(async () => {
  await gw?.stop();
  upstream?.kill();
});

function get(path: string, acceptEncoding?: string) {
  return new Promise<{ headers: http.IncomingHttpHeaders; raw: Buffer }>((resolve, reject) => {
    const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    http
      .get(`${gw.url}${path}`, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, raw: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('examples/compression', () => {
  it('compresses /json with gzip or the coding of the higher q-value, and leaves the image alone', async () => {
    const plain = await get('/json');
    assert.equal(plain.headers['content-encoding'], undefined);
    const gzip = await get('/json', 'gzip');
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.equal(gzip.headers.vary, 'Accept-Encoding');
    assert.equal(gzip.headers.etag, 'W/"v1"');
    assert.ok(zlib.gunzipSync(gzip.raw).equals(plain.raw));
    assert.ok(gzip.raw.length < plain.raw.length / 4);
    const zstd = await get('/json', 'br;q=0.5, zstd');
    assert.equal(zstd.headers['content-encoding'], 'zstd');
    assert.ok(zlib.zstdDecompressSync(zstd.raw).equals(plain.raw));
    const image = await get('/image', 'gzip');
    assert.equal(image.headers['content-encoding'], undefined);
    assert.ok(image.raw.equals(plain.raw));
  });

  it('streams the five events compressed', async () => {
    const events = await get('/events', 'gzip');
    assert.equal(events.headers['content-encoding'], 'gzip');
    const text = zlib.gunzipSync(events.raw).toString();
    assert.equal(text.split('\n\n').filter(Boolean).length, 5);
    assert.match(text, /data: event 5 of 5/);
  });
});
