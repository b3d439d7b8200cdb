/**
 * A gRPC service for the tests, defined without .proto files: messages are raw bytes (Buffer serializers), which
 * is all a proxy test needs. A @grpc/grpc-js server on 127.0.0.1:0 (cleartext or TLS) and a generic client.
 */
import * as grpc from '@grpc/grpc-js';

const bytes = (b: Buffer) => b;
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Echo/${path}`,
  requestStream,
  responseStream,
  requestSerialize: bytes,
  requestDeserialize: bytes,
  responseSerialize: bytes,
  responseDeserialize: bytes,
});

export const EchoService = {
  /** Unary: `echo:<request>`, with initial metadata `x-meta: m1` and trailing metadata `x-trailer: t1`. */
  Echo: method('Echo', false, false),
  /** Server streaming: the request is a count N; answers `n0`..`n<N-1>`, 20 ms apart. */
  Count: method('Count', false, true),
  /** Unary: always NOT_FOUND "no such thing" (a Trailers-Only answer). */
  Fail: method('Fail', false, false),
  /** Server streaming: two messages, then INTERNAL "broke after two" (status in trailers after data). */
  FailLater: method('FailLater', false, true),
  /** Client streaming: answers `got <messages> messages, <bytes> bytes`. */
  Collect: method('Collect', true, false),
  /** Bidirectional: answers each message with `re:<message>` as it arrives; ends when the client ends. */
  Chat: method('Chat', true, true),
} satisfies grpc.ServiceDefinition;

type Unary = grpc.ServerUnaryCall<Buffer, Buffer>;
type Stream = grpc.ServerWritableStream<Buffer, Buffer>;

function trailer(): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('x-trailer', 't1');
  return m;
}

const implementation: grpc.UntypedServiceImplementation = {
  Echo(call: Unary, callback: grpc.sendUnaryData<Buffer>) {
    const meta = new grpc.Metadata();
    meta.set('x-meta', 'm1');
    call.sendMetadata(meta);
    callback(null, Buffer.concat([Buffer.from('echo:'), call.request]), trailer());
  },
  Count(call: Stream) {
    const n = Number(String(call.request));
    let i = 0;
    const timer = setInterval(() => {
      if (call.cancelled || i === n) {
        clearInterval(timer);
        if (!call.cancelled) call.end(trailer());
        return;
      }
      call.write(Buffer.from(`n${i++}`));
    }, 20);
  },
  Fail(_call: Unary, callback: grpc.sendUnaryData<Buffer>) {
    callback({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
  },
  FailLater(call: Stream) {
    call.write(Buffer.from('first'));
    call.write(Buffer.from('second'));
    setTimeout(() => call.emit('error', { code: grpc.status.INTERNAL, details: 'broke after two' }), 20);
  },
  Collect(call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    let messages = 0;
    let size = 0;
    call.on('data', (m: Buffer) => {
      messages++;
      size += m.length;
    });
    call.on('end', () => callback(null, Buffer.from(`got ${messages} messages, ${size} bytes`)));
  },
  Chat(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
    call.on('data', (m: Buffer) => call.write(Buffer.concat([Buffer.from('re:'), m])));
    call.on('end', () => call.end());
  },
};

export interface GrpcUpstream {
  readonly port: number;
  close(): void;
}

/** Starts the service on 127.0.0.1:0, in clear text or with `tls` (PEM certificate and key). */
export async function startGrpc(tls?: { cert: Buffer; key: Buffer }): Promise<GrpcUpstream> {
  const server = new grpc.Server();
  server.addService(EchoService, implementation);
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }])
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, close: () => server.forceShutdown() };
}

const Client = grpc.makeGenericClientConstructor(EchoService, 'Echo');
export type EchoClient = InstanceType<typeof Client>;

/** A client for `addr` (`host:port`), in clear text or trusting `ca` (then the name checked is `localhost`). */
export function echoClient(addr: string, ca?: Buffer): EchoClient {
  return ca
    ? new Client(addr, grpc.credentials.createSsl(ca), { 'grpc.ssl_target_name_override': 'localhost' })
    : new Client(addr, grpc.credentials.createInsecure());
}

export interface UnaryResult {
  readonly error: grpc.ServiceError | null;
  readonly value: string | undefined;
  readonly metadata: grpc.Metadata | undefined;
  readonly status: grpc.StatusObject | undefined;
}

/** Calls a unary method; resolves with the error or value, the initial metadata and the final status. */
export function unary(client: EchoClient, name: 'Echo' | 'Fail', request: string): Promise<UnaryResult> {
  return new Promise((resolve) => {
    let metadata: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    let result: { error: grpc.ServiceError | null; value: string | undefined } | undefined;
    const done = () => {
      if (result && status) resolve({ ...result, metadata, status });
    };
    const fn = client[name] as (
      req: Buffer,
      meta: grpc.Metadata,
      options: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, value?: Buffer) => void,
    ) => grpc.ClientUnaryCall;
    const call = fn.call(
      client,
      Buffer.from(request),
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
      (err, value) => {
        result = { error: err, value: value === undefined ? undefined : String(value) };
        done();
      },
    );
    call.on('metadata', (m: grpc.Metadata) => {
      metadata = m;
    });
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}

export interface StreamResult {
  readonly messages: string[];
  readonly error: grpc.ServiceError | undefined;
  readonly status: grpc.StatusObject;
}

/** Calls a server-streaming method; resolves with every message and the final status. */
export function serverStream(
  client: EchoClient,
  name: 'Count' | 'FailLater',
  request: string,
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    let error: grpc.ServiceError | undefined;
    const fn = client[name] as (req: Buffer, options: grpc.CallOptions) => grpc.ClientReadableStream<Buffer>;
    const call = fn.call(client, Buffer.from(request), { deadline: Date.now() + 5000 });
    call.on('data', (m: Buffer) => messages.push(String(m)));
    call.on('error', (e: grpc.ServiceError) => {
      error = e;
    });
    call.on('status', (status: grpc.StatusObject) => {
      // `status` comes after the last message and after `error`, if any.
      setImmediate(() => resolve({ messages, error, status }));
    });
  });
}

/** Calls the client-streaming method with `count` messages of `size` bytes. */
export function collect(client: EchoClient, count: number, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const fn = client.Collect as (
      options: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, value?: Buffer) => void,
    ) => grpc.ClientWritableStream<Buffer>;
    const call = fn.call(client, { deadline: Date.now() + 5000 }, (err, value) =>
      err ? reject(err) : resolve(String(value)),
    );
    for (let i = 0; i < count; i++) call.write(Buffer.alloc(size, i));
    call.end();
  });
}

/**
 * Calls the bidirectional method: sends each message only after the answer to the previous one arrived (so the
 * call is truly interactive through the proxy), then ends; resolves with the answers.
 */
export function chat(client: EchoClient, messages: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const fn = client.Chat as (options: grpc.CallOptions) => grpc.ClientDuplexStream<Buffer, Buffer>;
    const call = fn.call(client, { deadline: Date.now() + 5000 });
    const answers: string[] = [];
    call.on('data', (m: Buffer) => {
      answers.push(String(m));
      if (answers.length < messages.length) call.write(Buffer.from(messages[answers.length]!));
      else call.end();
    });
    call.on('error', reject);
    call.on('end', () => resolve(answers));
    call.write(Buffer.from(messages[0]!));
  });
}

export { grpc };
