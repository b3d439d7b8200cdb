/**
 * examples/bodylimit (AILERON's example: EchoHandler behind maxSize 10, memLimit 5): does what its README says.
 * The temporary files go to a directory of the test's own (BODYLIMIT_TEMP) so it can check they are removed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';

const example = resolve(import.meta.dirname, '../../../examples/bodylimit');
const temp = mkdtempSync(join(tmpdir(), 'bodylimit-example-'));
let gw: RunningGateway;

before(async () => {
  gw = await startGateway(example, {
    env: { GATEWAY_ADDR: '127.0.0.1:0', BODYLIMIT_TEMP: temp },
    timeoutMs: 30_000, // a busy machine can take longer than the default to start a Node process
  });
});
after(async () => {
  await gw?.stop();
});

/** curl -d (Content-Length) or with Transfer-Encoding: chunked. */
function post(body: string, chunked = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = chunked ? {} : { 'content-length': Buffer.byteLength(body) };
    const req = http.request(`${gw.url}/`, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end(body);
  });
}

describe('examples/bodylimit', () => {
  it('echoes bodies of up to 10 bytes, read into memory or through a file that is then removed', async () => {
    const five = await post('12345');
    assert.equal(five.status, 200);
    assert.match(five.body, /12345/);
    const ten = await post('1234567890');
    assert.equal(ten.status, 200);
    assert.match(ten.body, /1234567890/);
    await eventually(() => readdirSync(temp).length === 0, { what: 'the temporary file is removed' });
  });

  it('answers 413 to 11 bytes, by Content-Length and counted as a chunked body streams', async () => {
    const TooLarge = { status: 413, body: '{"status":413,"statusText":"Payload Too Large"}' };
    assert.deepEqual(await post('12345678901'), TooLarge);
    assert.deepEqual(await post('12345678901', true), TooLarge);
  });
});
