/**
 * examples/http2-grpc, as its README runs it: greeter.js serves the gRPC service, the gateway proxies it over
 * h2c, and greeter.js as a client calls through the gateway (unary and a server stream). Plain HTTP/2 and
 * HTTP/1.1 clients share the port; a gone upstream is a 502 the gRPC client sees as UNAVAILABLE.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { within } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type RunningScript, runScript, startScript } from './scripts.ts';

/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;

const greeter = 'examples/http2-grpc/greeter.js';

describe('examples/http2-grpc', () => {
  let service: RunningScript;
  let gw: RunningGateway;
  let target: string;

  before(async () => {
    service = await startScript([greeter, 'serve', '127.0.0.1:0']);
    gw = await startGateway('examples/http2-grpc/', {
      // Starting takes longer than the default 10 s when the machine is busy.
      timeoutMs: StartDeadline,
      env: { GATEWAY_ADDR: '127.0.0.1:0', GRPC_URL: `http://${service.addr}` },
    });
    target = gw.addr.default!;
  });

  after(async () => {
    if (gw) assert.equal(await gw.stop(), 0);
    await service?.stop();
  });

  it('a unary call through the gateway: hello world', async () => {
    assert.deepEqual(await runScript([greeter, 'hello', target, 'world']), {
      code: 0,
      stdout: 'hello world\n',
      stderr: '',
    });
  });

  it('a server stream through the gateway: 1, 2, 3', async () => {
    assert.deepEqual(await runScript([greeter, 'count', target, '3']), {
      code: 0,
      stdout: '1\n2\n3\n',
      stderr: '',
    });
  });

  it('plain HTTP/2 (prior knowledge) and HTTP/1.1 on the same port: 404 outside /demo.Greeter/', async () => {
    const session = http2.connect(`http://${target}`);
    try {
      const status = await within(
        new Promise<number>((done, fail) => {
          const req = session.request({ ':path': '/other' });
          req.on('response', (h) => done(Number(h[':status'])));
          req.on('error', fail);
          req.resume();
        }),
        { what: 'the HTTP/2 answer' },
      );
      assert.equal(status, 404);
    } finally {
      session.close();
    }
    assert.equal((await fetch(`http://${target}/other`)).status, 404);
  });

  it('with the service stopped, the call fails as UNAVAILABLE (HTTP 502 from the gateway)', async () => {
    await service.stop();
    const r = await runScript([greeter, 'hello', target, 'world']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^14 UNAVAILABLE: .*502/);
  });
});
