// test-lane: alone — it restarts the engine under every other suite: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { docker, eventually, kiab, kiabJson, kiabOk, processGone, readTcp, run, startGreeter, type StatusJson } from './helpers.js';

const CLUSTER = 'e2e-restart';

/** The running dockerd's pid and argv, when this test may restart it (root, dockerd visible). */
async function findDockerd(): Promise<{ pid: number; argv: string[] } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const pidof = await run('pidof', ['dockerd']);
  const pid = Number(pidof.stdout.trim().split(/\s+/)[0]);
  if (pidof.code !== 0 || !pid) return undefined;
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  return { pid, argv };
}

const dockerd = await findDockerd();
const systemdManaged = dockerd ? (await readFile(`/proc/${dockerd.pid}/cgroup`, 'utf8')).includes('docker.service') : false;
const skip = !dockerd
  ? 'needs root and a dockerd process on this machine to restart'
  : systemdManaged
    ? 'dockerd is managed by systemd here; restart it with systemctl by hand'
    : false;

// A skipped suite is reported as one skipped test with its reason, so the run's summary counts it.
if (skip) it('the cluster survives an engine restart', { skip }, () => undefined);
else
  describe('the cluster survives an engine restart', () => {
    before(async () => {
      await kiab(['delete', CLUSTER]);
    });
    after(async () => {
      await kiab(['delete', CLUSTER]);
    });

    it('every machine and the box come back running, with the same addresses, and the box still forwards', async () => {
      const before = await kiabJson<StatusJson>(['up', CLUSTER, '--k8s', 'none', '--workers', '2']);
      assert.equal(before.state, 'running');
      // A port added after up is kept by its door's labels: it must come back with the engine too.
      const added = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number };
          probe.close(() => resolve(port));
        });
      });
      await kiabOk(['port', 'add', CLUSTER, `${added}:30080`]);

      const { pid, argv } = dockerd!;
      process.kill(pid, 'SIGTERM');
      await processGone(pid);
      const log = openSync('/var/log/dockerd.log', 'a');
      spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] }).unref();
      await eventually(() => docker(['info', '--format', '{{.ServerVersion}}']), 60_000, 500);

      const after = await eventually(
        async () => {
          const status = await kiabJson<StatusJson>(['status', CLUSTER]);
          if (status.state !== 'running') throw new Error(`cluster is ${status.state}`);
          return status;
        },
        120_000,
        1000,
      );
      assert.deepEqual(
        after.nodes.map((machine) => [machine.name, machine.ip]),
        before.nodes.map((machine) => [machine.name, machine.ip]),
      );
      assert.equal(after.address, before.address);

      // The machine rebooted, so the greeter is started anew; the forwarding rules must be back by themselves.
      await startGreeter(`kiab-${CLUSTER}-worker-0`, 30080);
      assert.equal((await eventually(() => readTcp(after.address!, 30080))).trim(), `greeting-from-kiab-${CLUSTER}-worker-0`);
      assert.equal((await eventually(() => readTcp('127.0.0.1', added))).trim(), `greeting-from-kiab-${CLUSTER}-worker-0`);
      assert.ok(after.ports.some((port) => port.name === `port-${added}`));
    });
  });
