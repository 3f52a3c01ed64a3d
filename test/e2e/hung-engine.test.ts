import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, kiab, kiabOk, labelledObjects, startKiab, tempDir } from './helpers.js';

/** An engine that accepts every connection and never answers: the worst a hung dockerd does. */
async function silentEngine(): Promise<{ host: string; accepted: () => number; close: () => Promise<void> }> {
  const path = join(await tempDir('kiab-hung-'), 'engine.sock');
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  server.listen(path);
  await once(server, 'listening');
  return {
    host: `unix://${path}`,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('an engine that never answers', () => {
  let engine: Awaited<ReturnType<typeof silentEngine>>;
  before(async () => {
    engine = await silentEngine();
  });
  after(async () => {
    await engine.close();
  });

  it('list: exit 1 within 15 s, one line naming the endpoint', async () => {
    const started = Date.now();
    const result = await kiab(['list'], { env: { ...process.env, DOCKER_HOST: engine.host }, timeoutMs: 60_000 });
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.ok(result.stderr.includes(engine.host), result.stderr);
  });

  it('SIGTERM during a stalled list: exit 143 within 3 s', async () => {
    const before = engine.accepted();
    const running = startKiab(['list'], { ...process.env, DOCKER_HOST: engine.host });
    // Connected and waiting on the engine's answer (on a busy host, starting the CLI alone can take a second).
    await eventually(async () => assert.ok(engine.accepted() > before, 'kiab has not connected to the engine yet'), 30_000, 50);
    const signalled = Date.now();
    running.child.kill('SIGTERM');
    const [code] = (await once(running.child, 'close')) as [number | null];
    assert.ok(Date.now() - signalled < 3_000, `took ${Date.now() - signalled} ms to stop`);
    assert.equal(code, 143, running.stderr());
    assert.match(running.stderr(), /^kiab: terminated/m);
  });
});

describe('SIGTERM during up', () => {
  const CLUSTER = 'hd-sigterm';
  before(async () => {
    await kiab(['delete', CLUSTER]);
  });
  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('exits 143 within 3 s, and delete removes what was made', async () => {
    const running = startKiab(['up', CLUSTER, '--k8s', 'none', '--workers', '2']);
    await eventually(
      async () => {
        if ((await labelledObjects(CLUSTER)).containers.length < 1) throw new Error('no container yet');
      },
      120_000,
      50,
    );
    const signalled = Date.now();
    running.child.kill('SIGTERM');
    const [code] = (await once(running.child, 'close')) as [number | null];
    assert.ok(Date.now() - signalled < 3_000, `took ${Date.now() - signalled} ms to stop`);
    // Stopped at a safe point (143), or up had finished already (0).
    assert.ok(code === 143 || code === 0, `exit ${code}: ${running.stderr()}`);
    if (code === 143) assert.match(running.stderr(), /^kiab: terminated/m);
    await kiabOk(['delete', CLUSTER]);
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });
});
