/**
 * Bodies through the proxy: streamed as they come (no buffering), large bodies in both directions with the
 * gateway's memory bounded by backpressure, and request bodies with a length or chunked.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import {
  type Echo,
  gatewayConfig,
  headerValues,
  peakRssMiB,
  startUpstream,
  type Upstream,
} from './upstream.ts';

const MiB = 1024 * 1024;
const BIG = 200 * MiB;
/** A 1 MiB block of varied bytes; big bodies repeat it. */
const block = Buffer.alloc(MiB, 0);
for (let i = 0; i < block.length; i++) block[i] = (i * 31 + (i >> 10)) & 0xff;
const bigDigest = (() => {
  const h = createHash('md5');
  for (let i = 0; i < BIG / MiB; i++) h.update(block);
  return h.digest('hex');
})();

/** Writes `total` bytes of `block` to a writable stream, respecting backpressure. */
async function pump(out: NodeJS.WritableStream, total: number): Promise<void> {
  for (let sent = 0; sent < total; sent += block.length) {
    if (!out.write(block))
      await within(once(out, 'drain'), { what: 'the gateway to read more', deadline: 10_000 });
  }
}

describe('ReverseProxyHandler bodies', () => {
  let ups: Upstream[] = [];
  let gw: RunningGateway;
  /** Lets the streaming upstream send its second chunk. */
  let releaseSecond: () => void = () => {};
  /** The upload upstream pauses reading until this resolves. */
  let uploadGate: Promise<void> = Promise.resolve();

  before(async () => {
    const echo = await startUpstream('echo');
    const stream = await startUpstream('stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      new Promise<void>((r) => {
        releaseSecond = r;
      }).then(() => res.end('data: second\n\n'));
    });
    const download = await startUpstream('download', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG) });
      await pump(res, BIG);
      res.end();
    });
    const upload = await startUpstream('upload', async (req, res) => {
      const h = createHash('md5');
      let bytes = 0;
      req.pause();
      await uploadGate;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        h.update(c);
      });
      req.resume();
      await once(req, 'end');
      res.end(JSON.stringify({ bytes, md5: h.digest('hex') }));
    });
    ups = [echo, stream, download, upload];
    gw = await startGateway(
      writeConfig(
        gatewayConfig(
          ['main'],
          `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  loadBalancers:
${ups.map((u) => `    - pathMatcher: {match: /${u.name}, matchType: Prefix}\n      upstreams: [{url: "${u.url}"}]`).join('\n')}
`,
        ),
      ),
    );
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await Promise.all(ups.map((u) => u.close()));
  });

  it('streams: the client gets the first chunk before the upstream sends the second', async () => {
    const res = await fetch(`${gw.url}/stream`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    const first = await within(reader.read(), { what: 'the first chunk (held back?)' });
    assert.equal(Buffer.from(first.value!).toString(), 'data: first\n\n');
    releaseSecond();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += Buffer.from(r.value).toString();
    assert.equal(rest, 'data: second\n\n');
  });

  it('forwards request bodies with a Content-Length or chunked', async () => {
    const fixed = await fetch(`${gw.url}/echo`, { method: 'POST', body: 'x'.repeat(1000) });
    const e1 = (await fixed.json()) as Echo;
    assert.equal(e1.bodyBytes, 1000);
    assert.deepEqual(headerValues(e1.rawHeaders, 'content-length'), ['1000']);
    const chunked = await new Promise<Echo>((resolve, reject) => {
      const req = http.request(`${gw.url}/echo`, { method: 'PUT' }, (res) => {
        let t = '';
        res.on('data', (c) => {
          t += c;
        });
        res.on('end', () => resolve(JSON.parse(t) as Echo));
      });
      req.on('error', reject);
      req.write('abc');
      req.end('defg');
    });
    assert.equal(chunked.bodyBytes, 7);
    // undici sends a body that has fully arrived with a Content-Length, one still arriving chunked: either way
    // exactly one framing header.
    const framing = [
      ...headerValues(chunked.rawHeaders, 'transfer-encoding'),
      ...headerValues(chunked.rawHeaders, 'content-length'),
    ];
    assert.ok(
      framing.length === 1 && (framing[0] === 'chunked' || framing[0] === '7'),
      `framing: ${framing}`,
    );
  });

  it(`relays a ${BIG / MiB} MiB response to a slow reader without buffering it`, async () => {
    const pid = gw.child.pid!;
    const before = await peakRssMiB(pid);
    const h = createHash('md5');
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${gw.url}/download`, (res) => {
          let paused = false;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            h.update(c);
            // Stop reading for a while early on: a proxy without backpressure would buffer the rest meanwhile.
            if (!paused && bytes > 4 * MiB) {
              paused = true;
              res.pause();
              setTimeout(() => res.resume(), 1500);
            }
          });
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
    assert.equal(bytes, BIG);
    assert.equal(h.digest('hex'), bigDigest);
    const peak = await peakRssMiB(pid);
    assert.ok(
      peak - before < 96,
      `gateway peak RSS grew by ${Math.round(peak - before)} MiB (from ${Math.round(before)})`,
    );
  });

  it(`streams a ${BIG / MiB} MiB upload to a slow upstream without buffering it`, async () => {
    const pid = gw.child.pid!;
    const before = await peakRssMiB(pid);
    let open: () => void = () => {};
    uploadGate = new Promise((r) => {
      open = r;
    });
    setTimeout(() => open(), 1500);
    const result = await new Promise<{ bytes: number; md5: string }>((resolve, reject) => {
      const req = http.request(
        `${gw.url}/upload`,
        { method: 'POST', headers: { 'content-length': String(BIG) } },
        (res) => {
          let t = '';
          res.on('data', (c) => {
            t += c;
          });
          res.on('end', () => resolve(JSON.parse(t)));
        },
      );
      req.on('error', reject);
      pump(req, BIG).then(() => req.end(), reject);
    });
    assert.deepEqual(result, { bytes: BIG, md5: bigDigest });
    const peak = await peakRssMiB(pid);
    assert.ok(
      peak - before < 96,
      `gateway peak RSS grew by ${Math.round(peak - before)} MiB (from ${Math.round(before)})`,
    );
  });
});
