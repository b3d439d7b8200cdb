/**
 * examples/websocket, as its README runs it: echo.js serves WebSockets, the gateway proxies /ws/, and echo.js as
 * a client sends through the gateway. A path outside /ws/ refuses the handshake with 404.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { type RunningScript, runScript, startScript } from './scripts.ts';

/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;

const echo = 'examples/websocket/echo.js';

describe('examples/websocket', () => {
  let server: RunningScript;
  let gw: RunningGateway;

  before(async () => {
    server = await startScript([echo, 'serve', '127.0.0.1:0']);
    gw = await startGateway('examples/websocket/', {
      // Starting takes longer than the default 10 s when the machine is busy.
      timeoutMs: StartDeadline,
      env: { GATEWAY_ADDR: '127.0.0.1:0', WS_URL: `http://${server.addr}` },
    });
  });

  after(async () => {
    if (gw) assert.equal(await gw.stop(), 0);
    await server?.stop();
  });

  it('messages go through the gateway and come back from the echo server, in order', async () => {
    const r = await runScript([echo, 'send', `ws://${gw.addr.default}/ws/chat`, 'hello', 'again']);
    assert.deepEqual(r, { code: 0, stdout: 'echo: hello\necho: again\n', stderr: '' });
  });

  it('a path the gateway does not proxy refuses the handshake with 404', async () => {
    const r = await runScript([echo, 'send', `ws://${gw.addr.default}/other`, 'hello']);
    assert.deepEqual(r, { code: 1, stdout: '', stderr: 'the handshake was answered with HTTP 404\n' });
  });
});
