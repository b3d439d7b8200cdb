/**
 * nginx configurations for the benchmark, generated into a private temporary prefix: as a proxy contender
 * (1 worker, upstream keep-alive pool, HTTP/1.1 upstream, X-Forwarded-For) and, when installed, as the origin.
 * The pid file and temp paths live in the prefix and errors go to stderr, so nothing outside it is touched.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function common(prefix: string): string {
  return `worker_processes 1;
worker_rlimit_nofile 65535;
pid ${prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp_body;
  proxy_temp_path ${prefix}/tmp_proxy;
  fastcgi_temp_path ${prefix}/tmp_fastcgi;
  uwsgi_temp_path ${prefix}/tmp_uwsgi;
  scgi_temp_path ${prefix}/tmp_scgi;
  default_type text/plain;
  tcp_nodelay on;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
`;
}

/**
 * nginx as a reverse proxy in front of 127.0.0.1:`upstreamPort`; with `tls`, behind HTTPS (TLS 1.3 only, as the
 * gateway-tls contender). Returns the config file.
 */
export function proxyConfig(
  prefix: string,
  port: number,
  upstreamPort: number,
  tls?: { cert: string; key: string },
): string {
  mkdirSync(prefix, { recursive: true });
  const file = join(prefix, 'nginx.conf');
  writeFileSync(
    file,
    `${common(prefix)}  upstream origin {
    server 127.0.0.1:${upstreamPort};
    keepalive 512;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${port}${tls ? ' ssl' : ''} backlog=4096;
${tls ? `    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};\n    ssl_protocols TLSv1.3;\n` : ''}    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # A 64 KiB response fits in these buffers (the default 8 x 4k would spill to a temp file).
      proxy_buffer_size 8k;
      proxy_buffers 16 8k;
    }
  }
}
`,
  );
  return file;
}

/**
 * nginx as the origin: `/` -> "hello", `/64k` -> a 65,536-byte file, on `port` and `extraPorts` (the upstreams
 * of --balancers). Returns the config file.
 */
export function originConfig(prefix: string, port: number, extraPorts: readonly number[] = []): string {
  mkdirSync(prefix, { recursive: true });
  // Started as root, nginx serves files as an unprivileged worker user (nobody): the file and every folder
  // above it must be readable by others (mkdtemp makes the temporary folder 0700).
  chmodSync(dirname(prefix), 0o755);
  chmodSync(prefix, 0o755);
  writeFileSync(join(prefix, '64k.bin'), Buffer.alloc(65_536, 'x'), { mode: 0o644 });
  const file = join(prefix, 'nginx.conf');
  writeFileSync(
    file,
    `${common(prefix)}  sendfile on;
  # tcp_nopush (TCP_CORK) stays off: with it about 1 % of 64 KiB responses wait for the 40 ms delayed-ACK
  # timer on loopback and that stall, not the proxy, becomes every p99.
  tcp_nopush off;
  open_file_cache max=16 inactive=600s;
  open_file_cache_valid 600s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
${extraPorts.map((p) => `    listen 127.0.0.1:${p} backlog=4096;\n`).join('')}    location = / { return 200 "hello"; }
    location = /64k { alias ${prefix}/64k.bin; }
  }
}
`,
  );
  return file;
}

/** The two files the static contenders serve (5 B and 64 KiB), and where each scenario asks for them. */
export const StaticFiles = { small: '/hello.txt', '64k': '/64k.bin' } as const;

/**
 * Writes the static contenders' files into `dir` (readable by nginx's unprivileged worker, as originConfig's).
 */
export function writeStaticFiles(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dirname(dir), 0o755);
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'hello.txt'), 'hello', { mode: 0o644 });
  writeFileSync(join(dir, '64k.bin'), Buffer.alloc(65_536, 'x'), { mode: 0o644 });
}

/**
 * nginx serving the files of `dir` (1 worker, sendfile as the origin; open_file_cache left at its default, off,
 * as the gateway caches nothing either: each request opens and stats its file). Returns the config file.
 */
export function staticConfig(prefix: string, port: number, dir: string): string {
  mkdirSync(prefix, { recursive: true });
  const file = join(prefix, 'nginx.conf');
  writeFileSync(
    file,
    `${common(prefix)}  sendfile on;
  tcp_nopush off;
  types { text/plain txt; application/octet-stream bin; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${dir};
    location / { }
  }
}
`,
  );
  return file;
}

/**
 * Arguments that run nginx in the foreground on `conf`. Errors, from start-up on, go to stderr: the harness
 * keeps them in logs/ and shows them when nginx fails.
 */
export function nginxArgs(prefix: string, conf: string): string[] {
  return ['-p', `${prefix}/`, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'];
}
