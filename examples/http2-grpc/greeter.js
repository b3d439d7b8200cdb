// A gRPC service and client for the HTTP/2 and gRPC example (needs the project's devDependencies: npm install).
// Messages are JSON, so no .proto file or code generation is needed; the gateway sees ordinary gRPC over HTTP/2.
//
//   node examples/http2-grpc/greeter.js serve [host:port]        the service (default 127.0.0.1:50051)
//   node examples/http2-grpc/greeter.js hello <host:port> <name> one call: prints the greeting
//   node examples/http2-grpc/greeter.js count <host:port> <n>    a server stream: prints n messages, one a line
//
// `serve` prints `greeter listening on <host:port>` once it accepts calls, and stops on SIGINT/SIGTERM.
import * as grpc from '@grpc/grpc-js';

const json = {
  serialize: (value) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes) => JSON.parse(bytes.toString('utf8')),
};
const method = (name, responseStream) => ({
  path: `/demo.Greeter/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const Greeter = { SayHello: method('SayHello', false), Count: method('Count', true) };

const [command, addr = '127.0.0.1:50051', arg = ''] = process.argv.slice(2);

if (command === 'serve') {
  const server = new grpc.Server();
  server.addService(Greeter, {
    SayHello(call, callback) {
      callback(null, { message: `hello ${call.request.name}` });
    },
    Count(call) {
      for (let i = 1; i <= call.request.n; i++) call.write({ n: i });
      call.end();
    },
  });
  server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`greeter listening on ${addr.slice(0, addr.lastIndexOf(':'))}:${port}\n`);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.forceShutdown());
} else if (command === 'hello' || command === 'count') {
  const Client = grpc.makeGenericClientConstructor(Greeter, 'Greeter');
  const client = new Client(addr, grpc.credentials.createInsecure());
  const fail = (err) => {
    process.stderr.write(`${err.code} ${grpc.status[err.code]}: ${err.details}\n`);
    process.exitCode = 1;
  };
  if (command === 'hello')
    client.SayHello({ name: arg || 'world' }, (err, reply) => {
      if (err) fail(err);
      else process.stdout.write(`${reply.message}\n`);
      client.close();
    });
  else
    client
      .Count({ n: Number(arg || 3) })
      .on('data', (m) => process.stdout.write(`${m.n}\n`))
      .on('error', fail)
      .on('end', () => client.close());
} else {
  process.stderr.write(
    'usage: greeter.js serve [host:port] | hello <host:port> <name> | count <host:port> <n>\n',
  );
  process.exitCode = 2;
}
