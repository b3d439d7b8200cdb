/**
 * The container image and the Kubernetes manifests, checked as far as this machine can without an image registry:
 * the manifests parse and agree with each other and with the configuration in their ConfigMap (ports, probe
 * paths, grace period, mount path); the Dockerfile's entry command runs the ConfigMap's configuration from the
 * packed package as a non-root user; and where a container engine answers, the image builds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { runCli, startGateway } from '../../helpers/gateway.ts';
import { type InstalledPackage, installPackedGateway } from '../../helpers/package.ts';

const repo = join(import.meta.dirname, '../../..');
const manifestsDir = join(repo, 'deploy/kubernetes');

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML; each check names what it reads
type Doc = any;

/** Every document of every manifest file, by kind. */
function loadManifests(): Map<string, Doc[]> {
  const byKind = new Map<string, Doc[]>();
  for (const file of readdirSync(manifestsDir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const doc of parseAllDocuments(readFileSync(join(manifestsDir, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file} parses`);
      const value = doc.toJS();
      if (value === null) continue;
      assert.ok(value.apiVersion && value.kind && value.metadata?.name, `${file}: a Kubernetes object`);
      byKind.set(value.kind, [...(byKind.get(value.kind) ?? []), value]);
    }
  }
  return byKind;
}

function one(byKind: Map<string, Doc[]>, kind: string): Doc {
  const docs = byKind.get(kind) ?? [];
  assert.equal(docs.length, 1, `one ${kind}`);
  return docs[0];
}

/** The gateway's resources in the ConfigMap's gateway.yaml, by kind (and the text itself). */
function gatewayConfig(configMap: Doc): { text: string; byKind: Map<string, Doc[]> } {
  const text = configMap.data['gateway.yaml'] as string;
  const byKind = new Map<string, Doc[]>();
  for (const doc of parseAllDocuments(text)) {
    const value = doc.toJS();
    if (value) byKind.set(value.kind, [...(byKind.get(value.kind) ?? []), value]);
  }
  return { text, byKind };
}

/** The Dockerfile's instructions (continuation lines joined), in order. */
function dockerfile(): Array<{ op: string; args: string }> {
  const text = readFileSync(join(repo, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const space = l.indexOf(' ');
      return { op: l.slice(0, space).toUpperCase(), args: l.slice(space + 1).trim() };
    });
}

/** The last stage's value of an instruction (JSON form for ENTRYPOINT/CMD). */
function last(instructions: Array<{ op: string; args: string }>, op: string): string {
  const found = instructions.filter((i) => i.op === op).at(-1);
  assert.ok(found, `Dockerfile has ${op}`);
  return found.args;
}

const portOf = (addr: string) => Number(addr.slice(addr.lastIndexOf(':') + 1));

describe('Kubernetes manifests', () => {
  const byKind = loadManifests();
  const deployment = one(byKind, 'Deployment');
  const service = one(byKind, 'Service');
  const pdb = one(byKind, 'PodDisruptionBudget');
  const configMap = one(byKind, 'ConfigMap');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const config = gatewayConfig(configMap);
  const server = (config.byKind.get('HTTPServer') ?? [])[0];
  const health = (config.byKind.get('HealthCheckHandler') ?? [])[0];

  it('the ConfigMap holds a configuration the gateway accepts', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'aileron-cm-')), 'gateway.yaml');
    writeFileSync(file, config.text);
    const r = await runCli(['--validate', '-f', file], { UPSTREAM_URL: 'http://127.0.0.1:1' });
    assert.equal(r.code, 0, r.stderr);
  });

  it('the container port is the HTTPServer port, and the Service targets it by name', () => {
    const http = container.ports.find((p: Doc) => p.name === 'http');
    assert.equal(http.containerPort, portOf(server.spec.addr));
    assert.equal(service.spec.ports[0].targetPort, 'http');
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels))
      assert.equal(deployment.spec.template.metadata.labels[k], v, 'the pods carry the selector labels');
  });

  it('readiness and liveness probe paths the HealthCheckHandler serves, on the http port', () => {
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.equal(probe.httpGet.port, 'http');
      assert.ok(health.spec.patterns.includes(probe.httpGet.path), `${probe.httpGet.path} is served`);
    }
    // The handler is mounted at the root of the virtual host (no `pattern` prefix).
    const entry = server.spec.virtualHosts[0].handlers.find(
      (h: Doc) => h.handler.kind === 'HealthCheckHandler',
    );
    assert.equal(entry.pattern ?? '', '');
  });

  it('Kubernetes waits longer than the preStop pause plus the drain before SIGKILL', () => {
    const [cmd, seconds] = container.lifecycle.preStop.exec.command;
    assert.equal(cmd, 'sleep');
    const shutdown = server.spec.shutdownTimeout;
    assert.ok(Number.isInteger(shutdown) && shutdown > 0);
    assert.ok(
      pod.terminationGracePeriodSeconds > Number(seconds) + shutdown,
      `${pod.terminationGracePeriodSeconds} > ${seconds} + ${shutdown}`,
    );
  });

  it('runs unprivileged, read-only, with resource requests, and a disruption budget that leaves one pod', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
    assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < deployment.spec.replicas);
  });

  it('mounts the ConfigMap where the command reads its configuration', () => {
    const mount = container.volumeMounts.find((m: Doc) => m.name === 'config');
    const volume = pod.volumes.find((v: Doc) => v.name === 'config');
    assert.equal(volume.configMap.name, configMap.metadata.name);
    const args: string[] = container.args ?? JSON.parse(last(dockerfile(), 'CMD'));
    assert.equal(args[args.indexOf('-f') + 1]!.replace(/\/$/, ''), mount.mountPath);
    // The image's own command reads the same directory.
    const cmd = JSON.parse(last(dockerfile(), 'CMD')) as string[];
    assert.equal(cmd[cmd.indexOf('-f') + 1]!.replace(/\/$/, ''), mount.mountPath);
    // Not a subPath mount: the kubelet updates only whole-directory ConfigMap mounts (what --watch reloads).
    assert.equal(mount.subPath, undefined);
  });
});

describe('Dockerfile', () => {
  const steps = dockerfile();
  const deployment = one(loadManifests(), 'Deployment');
  const container = deployment.spec.template.spec.containers[0];

  it('builds in stages on Node 24 slim and runs as a numeric non-root user', () => {
    const froms = steps.filter((s) => s.op === 'FROM').map((s) => s.args.split(/\s+/)[0]);
    assert.ok(froms.length >= 2, 'multi-stage');
    for (const from of froms) assert.match(from!, /^node:24(\.\d+)*-slim$/);
    const [uid, gid] = last(steps, 'USER').split(':').map(Number);
    assert.ok(uid! > 0 && gid! > 0);
    assert.equal(uid, deployment.spec.template.spec.securityContext.runAsUser);
    assert.equal(last(steps, 'STOPSIGNAL'), 'SIGTERM');
  });

  it('exposes the container port and checks the health path', () => {
    assert.equal(Number(last(steps, 'EXPOSE')), container.ports[0].containerPort);
    const check = last(steps, 'HEALTHCHECK');
    assert.match(
      check,
      new RegExp(
        `127\\.0\\.0\\.1:${container.ports[0].containerPort}${container.livenessProbe.httpGet.path}`,
      ),
    );
  });
});

describe('the image command from the packed package, as a non-root user', () => {
  let installed: InstalledPackage;
  let upstream: Server;
  let upstreamUrl: string;
  let etc: string;

  before(async () => {
    installed = installPackedGateway();
    upstream = createServer((req, res) => res.end(`upstream saw ${req.url}`));
    await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    // The ConfigMap's file as the pod sees it, on a free port instead of :8080.
    const configMap = one(loadManifests(), 'ConfigMap');
    etc = join(installed.dir, '..', 'etc-aileron');
    mkdirSync(etc);
    writeFileSync(
      join(etc, 'gateway.yaml'),
      gatewayConfig(configMap).text.replace(/addr: ":8080"/, 'addr: "127.0.0.1:0"'),
    );
    chmodSync(etc, 0o755);
  });
  after(() => {
    upstream?.closeAllConnections();
    upstream?.close();
    if (etc) rmSync(etc, { recursive: true, force: true });
    installed?.cleanup();
  });

  it('serves the probes and proxies, then drains on SIGTERM and exits 0', async () => {
    const steps = dockerfile();
    const entrypoint = JSON.parse(last(steps, 'ENTRYPOINT')) as string[];
    const cmd = JSON.parse(last(steps, 'CMD')) as string[];
    // The image installs the package at /opt/aileron (WORKDIR); here that is the test's install directory.
    const workdir = last(steps, 'WORKDIR');
    const local = (p: string) => (p.startsWith(workdir) ? join(installed.dir, p.slice(workdir.length)) : p);
    const args = cmd.map((a) => (a === '/etc/aileron/' ? `${etc}/` : a));
    const [uid, gid] = last(steps, 'USER').split(':').map(Number);
    // Root (CI, this sandbox) drops to the image's user; anyone else is already unprivileged.
    const asUser = process.getuid?.() === 0 ? { uid: uid!, gid: gid! } : {};
    const gw = await startGateway([], {
      exec: {
        file: local(entrypoint[0]!),
        args: [...entrypoint.slice(1).map(local), ...args],
        cwd: installed.dir,
        ...asUser,
      },
      env: { UPSTREAM_URL: upstreamUrl, HOME: '/nonexistent', NODE_ENV: 'production' },
      timeoutMs: 30_000,
    });
    try {
      if (asUser.uid !== undefined) {
        // The process (node itself: the shebang's env execs it) runs as the image's user.
        const status = readFileSync(`/proc/${gw.child.pid}/status`, 'utf8');
        assert.match(status, new RegExp(`^Uid:\\s+${asUser.uid}\\s`, 'm'));
      }
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
      // The image's HEALTHCHECK command, pointed at this gateway's port: exit 0 while it serves.
      const check = JSON.parse(last(steps, 'HEALTHCHECK').replace(/^.*?CMD\s+/, '')) as string[];
      const probe = check.map((a) => a.replace('http://127.0.0.1:8080', gw.url));
      assert.notDeepEqual(probe, check, 'the HEALTHCHECK names http://127.0.0.1:8080');
      const healthy = spawnSync(process.execPath, probe.slice(1), { encoding: 'utf8', timeout: 30_000 });
      assert.equal(healthy.status, 0, healthy.stderr);
      const res = await fetch(`${gw.url}/api/items?x=1`, { headers: { 'user-agent': 'k8s-test' } });
      assert.equal(await res.text(), 'upstream saw /api/items?x=1');
    } finally {
      assert.equal(await gw.stop('SIGTERM'), 0, gw.stderr());
    }
    assert.match(gw.stdout(), /"GET \/api\/items\?x=1 HTTP\/1\.1" 200 \d+ "-" "k8s-test"/);
    assert.match(gw.stdout(), /server stopped 127\.0\.0\.1:\d+/);
  });
});

describe('systemd unit', () => {
  const unit = readFileSync(join(repo, 'deploy/systemd/aileron.service'), 'utf8');
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];

  it('runs the image command, reloads with SIGHUP and waits out the default drain', () => {
    const entrypoint = JSON.parse(last(dockerfile(), 'ENTRYPOINT')) as string[];
    const cmd = JSON.parse(last(dockerfile(), 'CMD')) as string[];
    assert.equal(value('ExecStart'), [...entrypoint, ...cmd].join(' '));
    assert.equal(value('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(value('KillSignal'), 'SIGTERM');
    // The HTTPServer's default shutdownTimeout is 30 s.
    assert.ok(Number(value('TimeoutStopSec')) > 30);
  });
});

describe('image build', () => {
  /** A container engine that answers here (a client without a daemon does not count). */
  const engine = ['docker', 'podman'].find(
    (e) => spawnSync(e, ['info'], { stdio: 'ignore', timeout: 15_000 }).status === 0,
  );

  it('builds the image', {
    skip: engine ? false : 'no container engine answers here (docker/podman info)',
  }, () => {
    const tag = `aileron-ts:test-${process.pid}`;
    const r = spawnSync(engine!, ['build', '-t', tag, repo], { encoding: 'utf8', timeout: 900_000 });
    assert.equal(r.status, 0, r.stderr);
    spawnSync(engine!, ['rmi', tag], { stdio: 'ignore', timeout: 60_000 });
  });
});
