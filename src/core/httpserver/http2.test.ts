import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { eventually } from '../../../test/helpers/eventually.ts';
import { memoryLogger } from '../../../test/helpers/memory-logger.ts';
import type { HTTPServerSpec } from './api.ts';
import { http2Plan, http2Problems, serveH2C } from './http2.ts';

type HTTP2 = NonNullable<HTTPServerSpec['http2Config']>;

const defaultsHTTP2: HTTP2 = {
  maxConcurrentStreams: 0,
  maxDecoderHeaderTableSize: 0,
  maxEncoderHeaderTableSize: 0,
  maxReadFrameSize: 0,
  permitProhibitedCipherSuites: false,
  idleTimeout: 0,
  maxUploadBufferPerConnection: 0,
  maxUploadBufferPerStream: 0,
  enableH2C: false,
  altSvc: '',
};

function spec(
  http2: Partial<HTTP2> | undefined,
  http: Partial<HTTPServerSpec['httpConfig']> = {},
): HTTPServerSpec {
  return {
    httpConfig: {
      readTimeout: 30,
      readHeaderTimeout: 30,
      idleTimeout: 10,
      maxHeaderBytes: 8192,
      allowHTTP2: false,
      ...http,
    },
    ...(http2 ? { http2Config: { ...defaultsHTTP2, ...http2 } } : {}),
  } as unknown as HTTPServerSpec;
}

/** A memory logger; `entries` are the lines written. */
function MemoryLogger() {
  const { logger, lines } = memoryLogger();
  return Object.assign(logger, { entries: lines });
}

describe('http2Plan', () => {
  it('is HTTP/1.1 only without http2Config or allowHTTP2, or without TLS and enableH2C', () => {
    const log = MemoryLogger();
    assert.equal(http2Plan(spec(undefined), true, log), undefined);
    assert.equal(http2Plan(spec(undefined, { allowHTTP2: true }), false, log), undefined);
    assert.equal(log.entries.length, 0);
    assert.equal(http2Plan(spec({}), false, log), undefined);
    assert.match(String(log.entries[0]?.msg), /speaks HTTP\/1\.1 only.*enableH2C/);
  });

  it('serves h2 by ALPN with TLS (http2Config or allowHTTP2), h2c with enableH2C in clear text', () => {
    const log = MemoryLogger();
    assert.equal(http2Plan(spec({}), true, log)?.mode, 'alpn');
    assert.equal(http2Plan(spec(undefined, { allowHTTP2: true }), true, log)?.mode, 'alpn');
    assert.equal(http2Plan(spec({ enableH2C: true }), false, log)?.mode, 'h2c');
    assert.equal(log.entries.length, 0);
    assert.equal(http2Plan(spec({ enableH2C: true }), true, log)?.mode, 'alpn');
    assert.match(String(log.entries[0]?.msg), /enableH2C has no effect on a TLS listener/);
  });

  it('uses the defaults for zero values', () => {
    const plan = http2Plan(spec({}), true, MemoryLogger())!;
    assert.deepEqual(plan.options.settings, {
      maxConcurrentStreams: 100,
      headerTableSize: 4096,
      maxFrameSize: 16384,
      initialWindowSize: 1 << 20,
      maxHeaderListSize: 8192 + 320,
    });
    assert.equal(plan.options.maxDeflateDynamicTableSize, 4096);
    assert.equal(plan.options.maxSessionMemory, 10);
    assert.equal(plan.connectionWindow, 1 << 20);
    assert.equal(plan.idleMs, 10_000, 'httpConfig.idleTimeout');
    assert.equal(plan.readMs, 30_000);
    assert.equal(plan.firstBytesMs, 30_000);
  });

  it('maps the configured limits', () => {
    const plan = http2Plan(
      spec(
        {
          maxConcurrentStreams: 7,
          maxDecoderHeaderTableSize: 8192,
          maxEncoderHeaderTableSize: 1024,
          maxReadFrameSize: 1 << 20,
          maxUploadBufferPerStream: 200_000,
          maxUploadBufferPerConnection: 3_000_000,
          idleTimeout: 5,
          enableH2C: true,
        },
        { maxHeaderBytes: 0, readTimeout: 0, readHeaderTimeout: 0 },
      ),
      false,
      MemoryLogger(),
    )!;
    assert.deepEqual(plan.options.settings, {
      maxConcurrentStreams: 7,
      headerTableSize: 8192,
      maxFrameSize: 1 << 20,
      initialWindowSize: 200_000,
      maxHeaderListSize: (1 << 20) + 320,
    });
    assert.equal(plan.options.maxDeflateDynamicTableSize, 1024);
    assert.equal(plan.connectionWindow, 3_000_000);
    assert.equal(plan.idleMs, 5000);
    assert.equal(plan.readMs, 0, 'readTimeout 0: no limit');
    assert.equal(plan.firstBytesMs, 0);
  });

  it('ignores a connection window below 65535 (Go does), and caps windows at 2^31-1', () => {
    const small = http2Plan(spec({ maxUploadBufferPerConnection: 1000 }), true, MemoryLogger())!;
    assert.equal(small.connectionWindow, 1 << 20);
    const huge = http2Plan(
      spec({ maxUploadBufferPerConnection: 2 ** 40, maxUploadBufferPerStream: 2 ** 40 }),
      true,
      MemoryLogger(),
    )!;
    assert.equal(huge.connectionWindow, 2 ** 31 - 1);
    assert.equal(huge.options.settings?.initialWindowSize, 2 ** 31 - 1);
  });

  it('reports values HTTP/2 cannot carry, naming the field and the range (validate)', () => {
    for (const [value, ok] of [
      [16383, false],
      [16384, true],
      [16_777_215, true],
      [16_777_216, false],
      [0, true],
    ] as const) {
      const problems = http2Problems(spec({ maxReadFrameSize: value }));
      if (ok) assert.deepEqual(problems, [], String(value));
      else {
        assert.equal(problems.length, 1, String(value));
        assert.deepEqual(problems[0]!.path, ['http2Config', 'maxReadFrameSize']);
        assert.match(problems[0]!.hint ?? '', /16384 to 16777215/);
      }
    }
    const big = http2Problems(spec({ maxConcurrentStreams: 2 ** 32, maxEncoderHeaderTableSize: 2 ** 33 }));
    assert.deepEqual(
      big.map((p) => p.path.join('.')),
      ['http2Config.maxConcurrentStreams', 'http2Config.maxEncoderHeaderTableSize'],
    );
    assert.deepEqual(http2Problems(spec(undefined)), []);
  });
});

describe('serveH2C', () => {
  const MiB = 1024 * 1024;
  const Body = 64 * MiB;

  /**
   * Uploads `Body` bytes over HTTP/1.1 to a server whose request handler never reads them, and returns what the
   * client could send until it made no progress for a second (or sent it all). Sockets of 1 KiB buffers: the
   * parser pauses the connection while parsing the first bytes, the hand-over's hardest case.
   */
  async function sentToAnUnreadBody(h2c: boolean): Promise<number> {
    const server = http.createServer({ highWaterMark: 1024 }, () => {});
    if (h2c) {
      const logger = MemoryLogger();
      serveH2C(server, http2Plan(spec({ enableH2C: true }), false, logger)!, () => {}, logger);
    }
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.on('error', () => {});
    let sent = 0;
    try {
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      client.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: ${Body}\r\n\r\n`);
      const pump = () => {
        while (sent < Body) {
          sent += chunk.length;
          if (!client.write(chunk)) return void client.once('drain', pump);
        }
      };
      pump();
      let last = -1;
      let still = 0;
      await eventually(
        () => {
          still = sent === last ? still + 1 : 0;
          last = sent;
          return sent === Body || still >= 5;
        },
        { deadline: 60_000, interval: 200, what: 'the upload stalled or was sent whole' },
      );
      return sent;
    } finally {
      client.destroy();
      server.closeAllConnections();
      server.close();
    }
  }

  it('hands HTTP/1.1 connections to node:http with its flow control: a body nobody reads holds the client back', async () => {
    const plain = await sentToAnUnreadBody(false);
    const h2c = await sentToAnUnreadBody(true);
    // Kernel buffers on loopback take a few MiB; the body is 64.
    assert.ok(plain < 16 * MiB, `without h2c, the client sent ${plain} bytes`);
    assert.ok(h2c < 16 * MiB, `with h2c, the client sent ${h2c} bytes`);
  });
});
