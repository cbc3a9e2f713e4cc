// The failover probe loop (src/verify/probe-script.ts) run for real with python3 against
// loopback servers: an answer, a refused connection, a listener that never accepts (its
// queue full, the kernel drops further SYNs: what a client sees while no node holds a VIP)
// and one that accepts but never answers. Each failure must carry its own kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { PROBE_LOOP_PY } from '../../src/verify/probe-script.js';
import { computeGap, parseProbeLoop, trailingSlowOnly } from '../../src/verify/parse.js';

const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res((server.address() as { port: number }).port));
  });
}

test('probe loop: ok, refused, dropped SYN and slow answers are told apart', { skip: hasPython ? false : 'python3 not installed', timeout: 30_000 }, async () => {
  const sockets: Socket[] = [];
  const ok = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {}); // a client that gave up resets the connection
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nweb1\n'));
  });
  const slow = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  const port = await listen(ok, '127.0.0.2', 0);
  await listen(slow, '127.0.0.5', port);
  // A listener that never accepts, with the smallest queue: once full, SYNs are dropped.
  const deaf = spawn('python3', ['-c', `import socket,time\ns=socket.socket()\ns.bind(("127.0.0.4",${port}))\ns.listen(0)\nprint("up",flush=True)\ntime.sleep(30)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((res) => deaf.stdout.once('data', () => res()));
    const cfg = { vips: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'], port, rate: 20, timeout: 0.05, duration: 1, stop: '/nonexistent/stop', backends: ['web1'], maxInflight: 8 };
    // Asynchronously: the answering server lives in this process's event loop.
    const loop = spawn('python3', ['-', JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
    loop.stdin.end(PROBE_LOOP_PY);
    const r = { stdout: '', stderr: '', status: 0 as number | null };
    loop.stdout.on('data', (d: Buffer) => (r.stdout += d));
    loop.stderr.on('data', (d: Buffer) => (r.stderr += d));
    r.status = await new Promise((res) => loop.once('close', res));
    assert.equal(r.status, 0, r.stderr);
    const p = parseProbeLoop(r.stdout);
    assert.deepEqual(p.bad, []);
    assert.equal(p.end?.reason, 'duration');
    const kinds = (vip: string) => computeGap(p.samples.filter((s) => s.vip === vip)).failureKinds;
    // The answering server shares this busy machine: an answer may come after 50 ms ("slow").
    const good = p.samples.filter((s) => s.vip === '127.0.0.2');
    assert.ok(good.length >= 5 && good.filter((s) => s.ok && s.backend === 'web1').length >= good.length / 2, JSON.stringify(good.slice(0, 3)));
    assert.ok(good.every((s) => s.ok || s.kind === 'slow'), JSON.stringify(good.filter((s) => !s.ok)));
    assert.deepEqual(Object.keys(kinds('127.0.0.3')), ['refused']);
    assert.ok((kinds('127.0.0.4').syn ?? 0) >= 10, JSON.stringify(kinds('127.0.0.4')));
    assert.deepEqual(Object.keys(kinds('127.0.0.5')), ['slow']);
  } finally {
    deaf.kill('SIGKILL');
    sockets.forEach((s) => s.destroy());
    ok.close();
    slow.close();
  }
});

test('a loop ending in late answers (kind slow) after OKs is not an outage that never ended', () => {
  const ok = (s: number) => ({ s, t: s + 3, vip: 'v', ok: true, status: 200 });
  const bad = (s: number, kind: string) => ({ s, t: s + 50, vip: 'v', ok: false, status: 0, kind });
  assert.equal(trailingSlowOnly([ok(0), ok(20), bad(40, 'slow'), bad(60, 'slow')]), true);
  assert.equal(trailingSlowOnly([ok(0), ok(20), bad(40, 'syn'), bad(60, 'slow')]), false, 'a dropped SYN: nobody held the VIP');
  assert.equal(trailingSlowOnly([bad(0, 'slow')]), false, 'never answered at all');
  assert.equal(trailingSlowOnly([ok(0), ok(20)]), false, 'nothing trailing');
  assert.equal(computeGap([ok(0), ok(20), bad(40, 'slow')]).recovered, true);
  assert.equal(computeGap([ok(0), ok(20), bad(40, 'syn')]).recovered, false);
});
