/**
 * switchProtocols on real sockets: a node:http server with serveUpgrades (as the HTTPServer has) in front, a raw
 * TCP "upstream" behind, and a raw TCP client, so half-closes and resets can be observed byte by byte.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, within } from '../../../test/helpers/eventually.ts';
import type { GatewayError } from '../../kernel/errors.ts';
import { serveUpgrades } from '../httpserver/upgrade.ts';
import { GatewayRequest } from '../roles.ts';
import { switchProtocols } from './upgrade.ts';

const Accept = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': 'abc=' };

describe('switchProtocols', () => {
  let gateway: http.Server;
  let upstream: Server;
  let gatewayPort: number;
  /** The upstream side of the next tunnel, and what the next switch returned. */
  let upstreamSockets: Socket[] = [];
  const sockets = new Set<Socket>();
  let answer: Record<string, string> = Accept;
  const results: Array<GatewayError | undefined> = [];
  let ended = 0;

  before(async () => {
    // allowHalfOpen: the upstream keeps writing after the client's end, as the half-close test needs.
    upstream = createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      upstreamSockets.push(s);
      sockets.add(s);
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const upstreamPort = (upstream.address() as AddressInfo).port;
    gateway = http.createServer({ IncomingMessage: GatewayRequest });
    serveUpgrades(gateway, (req, res) => {
      // Stands in for undici: a connection to the upstream that "answered 101".
      const up = connect(upstreamPort, '127.0.0.1', () => {
        const err = switchProtocols(req, res, 101, answer, up, () => ended++);
        results.push(err);
        if (err) res.writeHead(err.status ?? 500).end();
      });
    });
    gateway.listen(0, '127.0.0.1');
    await once(gateway, 'listening');
    gatewayPort = (gateway.address() as AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    gateway.closeAllConnections();
    await Promise.all([new Promise((r) => gateway.close(r)), new Promise((r) => upstream.close(r))]);
  });

  /** Connects a client, sends the upgrade request (plus `early` bytes in the same packet), reads the 101 head. */
  async function tunnel(early = '', upgrade = 'websocket') {
    upstreamSockets = [];
    const client = connect(gatewayPort, '127.0.0.1');
    sockets.add(client);
    client.on('error', () => {});
    await within(once(client, 'connect'), { what: 'the connection' });
    client.write(
      `GET /chat HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n${early}`,
    );
    let head = '';
    while (!head.includes('\r\n\r\n'))
      head += String((await within(once(client, 'data'), { what: 'the response head' }))[0]);
    const rest = head.slice(head.indexOf('\r\n\r\n') + 4);
    return { client, head: head.slice(0, head.indexOf('\r\n\r\n')), rest };
  }
  const read = async (s: Socket) => String((await within(once(s, 'data'), { what: 'data' }))[0]);

  it('writes the 101 with the upstream headers and joins the connections both ways', async () => {
    answer = Accept;
    const { client, head } = await tunnel('early bytes');
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, /\r\nsec-websocket-accept: abc=/i);
    assert.match(head, /\r\nconnection: upgrade/i);
    assert.match(head, /\r\nupgrade: websocket/i);
    await eventually(() => upstreamSockets.length === 1, { what: 'the upstream connection' });
    const up = upstreamSockets[0]!;
    assert.equal(await read(up), 'early bytes', 'bytes sent with the request go upstream first');
    client.write('ping');
    assert.equal(await read(up), 'ping');
    up.write('pong');
    assert.equal(await read(client), 'pong');
    client.destroy();
    await eventually(() => up.destroyed || up.readableEnded, { what: 'the upstream side closed' });
  });

  it('passes a half-close on: the other direction keeps flowing, then both close and onEnd runs once', async () => {
    answer = Accept;
    const before = ended;
    const { client } = await tunnel();
    await eventually(() => upstreamSockets.length === 1, { what: 'the upstream connection' });
    const up = upstreamSockets[0]!;
    client.end(); // the client is done sending
    await within(once(up, 'end'), { what: 'the half-close upstream' });
    up.write('still coming');
    assert.equal(await read(client), 'still coming', 'the upstream can still answer after the half-close');
    up.end();
    await within(once(client, 'end'), { what: 'the half-close to the client' });
    await eventually(() => ended === before + 1, { what: 'onEnd ran' });
    assert.equal(ended, before + 1);
  });

  it('closes both sides when one is reset', async () => {
    answer = Accept;
    const { client } = await tunnel();
    await eventually(() => upstreamSockets.length === 1, { what: 'the upstream connection' });
    upstreamSockets[0]!.resetAndDestroy();
    await within(once(client, 'close'), { what: 'the client closed' });
  });

  it('refuses a switch to another protocol than the client asked for, and closes the upstream', async () => {
    answer = { ...Accept, upgrade: 'h2c' };
    const { head } = await tunnel('', 'websocket');
    assert.match(head, /^HTTP\/1\.1 502 /);
    const err = results.at(-1);
    assert.equal(err?.code, 'E2125');
    assert.match(String(err?.message), /asked for "websocket".*switched to "h2c"/);
    await eventually(
      () => upstreamSockets[0]?.readableEnded === true || upstreamSockets[0]?.destroyed === true,
      { what: 'the upstream closed' },
    );
  });

  it('accepts the upstream choosing one of several protocols the client offered', async () => {
    answer = { ...Accept, upgrade: 'Foo/2' };
    const { head, client } = await tunnel('', 'bar, foo/2');
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nupgrade: Foo\/2/i);
    client.destroy();
  });
});
