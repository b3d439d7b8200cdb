/**
 * `npm run bench:gzip`: gzip of a 64 KiB JSON response through the gateway (CompressionMiddleware, gzip level 6)
 * beside nginx with `gzip on` (level 6, 1 worker) in front of the same nginx origin, in one run, on loopback.
 * Each proxy is measured with `Accept-Encoding: gzip` and without it (the cost of compressing), the four runs
 * alternating rep by rep. Reports req/s, bytes per response (headers included) and CPU per request of the
 * proxy process (its zlib threads included) as medians over the reps. A benchmark, not a test: run it on a quiet
 * machine (it refuses to start when the 1-minute load average is above half the cores, unless --force).
 *
 *   npm run bench:gzip -- [--reps 3] [--duration 5] [--conns 50] [--force]
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Child, startChild, stopAll } from './lib/children.ts';
import { aileronNodeOptions } from './lib/contenders.ts';
import { nginxArgs } from './lib/nginx.ts';
import { cpuTicks, Hz, tree } from './lib/proc.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    conns: { type: 'string', default: '50' },
    force: { type: 'boolean', default: false },
  },
});
const reps = Number(values.reps);
const duration = Number(values.duration);
const conns = Number(values.conns);

const load = loadavg()[0]!;
if (!values.force && load > availableParallelism() / 2) {
  console.error(
    `the machine is busy (load average ${load.toFixed(2)}): figures would measure the others; --force`,
  );
  process.exit(2);
}

/** A 64 KiB JSON array of records, as an API answers: compressible, not trivially. */
function json64k(): Buffer {
  const items: string[] = [];
  let size = 2;
  for (let i = 0; size < 65_536 - 200; i++) {
    const item = JSON.stringify({
      id: i,
      sku: `SKU-${(i * 7919) % 100_000}`,
      price: (i * 37) % 1000,
      stock: i % 13,
    });
    items.push(item);
    size += item.length + 1;
  }
  const text = `[${items.join(',')}]`;
  return Buffer.from(text.padEnd(65_536 - 1, ' ') + '\n');
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'bench-gzip-'));
chmodSync(work, 0o755);
const http = (prefix: string) => `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp_body;
  proxy_temp_path ${prefix}/tmp_proxy;
  fastcgi_temp_path ${prefix}/tmp_fastcgi;
  uwsgi_temp_path ${prefix}/tmp_uwsgi;
  scgi_temp_path ${prefix}/tmp_scgi;
  tcp_nodelay on;
  keepalive_requests 100000000;
`;

async function nginx(name: string, conf: (prefix: string) => string, port: number): Promise<Child> {
  const prefix = join(work, name);
  mkdirSync(prefix, { recursive: true });
  chmodSync(prefix, 0o755);
  const file = join(prefix, 'nginx.conf');
  writeFileSync(file, conf(prefix));
  const child = startChild(name, 'nginx', nginxArgs(prefix, file), {
    cwd: root,
    logFile: join(work, `${name}.log`),
  });
  await untilServes(`http://127.0.0.1:${port}/json`, child);
  return child;
}

async function untilServes(url: string, child: Child): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (!child.running) throw new Error(`${child.name} ${child.exitDescription}:\n${child.tail()}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} does not serve ${url}:\n${child.tail()}`);
}

const body = json64k();
const originPort = await freePort();
const nginxPort = await freePort();
const origin = await nginx(
  'origin',
  (prefix) => {
    writeFileSync(join(prefix, '64k.json'), body, { mode: 0o644 });
    return `${http(prefix)}  sendfile on;
  server {
    listen 127.0.0.1:${originPort} backlog=4096;
    location = /json { default_type application/json; alias ${prefix}/64k.json; etag off; }
  }
}
`;
  },
  originPort,
);
const proxy = await nginx(
  'nginx-gzip',
  (prefix) => `${http(prefix)}  upstream origin { server 127.0.0.1:${originPort}; keepalive 512; }
  gzip on;
  gzip_comp_level 6;
  gzip_min_length 1024;
  gzip_types application/json;
  gzip_proxied any;
  gzip_vary on;
  server {
    listen 127.0.0.1:${nginxPort} backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffer_size 8k;
      proxy_buffers 16 8k;
    }
  }
}
`,
  nginxPort,
);
const gateway = startChild(
  'gateway-gzip',
  process.execPath,
  [...aileronNodeOptions(root), 'src/cli.ts', '-f', 'bench/configs/gateway-gzip.yaml'],
  {
    cwd: root,
    env: {
      BENCH_GATEWAY_ADDR: '127.0.0.1:0',
      BENCH_ORIGIN_URL: `http://127.0.0.1:${originPort}`,
      GATEWAY_LOG_LEVEL: 'info',
    },
    logFile: join(work, 'gateway.log'),
  },
);
const gatewayAddr = (await gateway.waitFor(/listening on (\S+?)"/, 20_000))[1]!;
await untilServes(`http://${gatewayAddr}/json`, gateway);

// The compressed answer each proxy gives, checked once: gzip, and the original bytes once decoded.
for (const [name, url] of [
  ['gateway', `http://${gatewayAddr}/json`],
  ['nginx', `http://127.0.0.1:${nginxPort}/json`],
] as const) {
  const res = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
  if (res.headers.get('content-encoding') !== 'gzip') throw new Error(`${name} did not gzip /json`);
  if (!Buffer.from(await res.arrayBuffer()).equals(body)) throw new Error(`${name}: the body decodes wrong`);
}

const script = join(work, 'report.lua');
writeFileSync(
  script,
  `done = function(summary, latency, requests)
  io.write(string.format('BENCHJSON {"requests":%d,"us":%d,"bytes":%d,"p99":%d,"errors":%d}\\n', summary.requests,
    summary.duration, summary.bytes, latency:percentile(99), summary.errors.status + summary.errors.read + summary.errors.connect))
end
`,
);

interface Run {
  rps: number;
  bytesPerResponse: number;
  cpuUsPerRequest: number;
  p99Ms: number;
  errors: number;
}

function wrk(url: string, gzip: boolean, pid: number): Promise<Run> {
  const args = [
    '-t1',
    `-c${conns}`,
    `-d${duration}s`,
    '-s',
    script,
    ...(gzip ? ['-H', 'Accept-Encoding: gzip'] : []),
    url,
  ];
  const before = cpuTicks(tree(pid));
  return new Promise((done, fail) => {
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    p.on('error', fail);
    p.on('close', () => {
      const line = /^BENCHJSON (.*)$/m.exec(out)?.[1];
      if (!line) return fail(new Error(`wrk printed no result: ${out}`));
      const j = JSON.parse(line) as {
        requests: number;
        us: number;
        bytes: number;
        p99: number;
        errors: number;
      };
      const ticks = cpuTicks(tree(pid)) - before;
      done({
        rps: j.requests / (j.us / 1e6),
        bytesPerResponse: j.bytes / j.requests,
        cpuUsPerRequest: ((ticks / Hz) * 1e6) / j.requests,
        p99Ms: j.p99 / 1000,
        errors: j.errors,
      });
    });
  });
}

const contenders = [
  { name: 'gateway gzip', url: `http://${gatewayAddr}/json`, gzip: true, pid: gateway.pid },
  { name: 'nginx gzip', url: `http://127.0.0.1:${nginxPort}/json`, gzip: true, pid: proxy.pid },
  { name: 'gateway identity', url: `http://${gatewayAddr}/json`, gzip: false, pid: gateway.pid },
  { name: 'nginx identity', url: `http://127.0.0.1:${nginxPort}/json`, gzip: false, pid: proxy.pid },
];
const results = new Map<string, Run[]>(contenders.map((c) => [c.name, []]));
try {
  for (const c of contenders) await wrk(c.url, c.gzip, c.pid); // warm-up, not counted
  for (let rep = 0; rep < reps; rep++) {
    // Alternating, each rep in a rotated order: drift of the machine falls on every contender alike.
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + rep) % contenders.length]!;
      results.get(c.name)!.push(await wrk(c.url, c.gzip, c.pid));
    }
  }
} finally {
  await stopAll();
}
void origin;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = contenders.map((c) => {
  const runs = results.get(c.name)!;
  return {
    contender: c.name,
    'req/s': Math.round(median(runs.map((r) => r.rps))),
    'bytes/response': Math.round(median(runs.map((r) => r.bytesPerResponse))),
    'CPU µs/request': Math.round(median(runs.map((r) => r.cpuUsPerRequest))),
    'p99 ms': Number(median(runs.map((r) => r.p99Ms)).toFixed(1)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
});
const nginxGzip = rows[1]!['req/s'];
console.log(
  `gzip of a ${body.length}-byte JSON response, ${conns} connections, ${reps} x ${duration} s, load average ${load.toFixed(2)} at start, ${spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim()}`,
);
console.table(rows);
console.log(`gateway gzip / nginx gzip: ${(rows[0]!['req/s'] / nginxGzip).toFixed(2)} (req/s)`);
