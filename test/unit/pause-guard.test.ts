import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { holdOffLooks, lookUnlessPausing } from '../../src/cluster/snapshot/pause-guard.js';

before(async () => {
  process.env.KIAB_LOCK_DIR = await mkdtemp(join(tmpdir(), 'kiab-pause-guard-'));
});

const looked = (cluster: string): Promise<string> =>
  lookUnlessPausing(
    cluster,
    async () => 'looked',
    async () => 'held off',
  );

describe('looks into machines and a snapshot pausing them', () => {
  it('a look goes ahead unless the cluster is being paused, and again once the pause is lifted', async () => {
    assert.equal(await looked('a'), 'looked');
    const lift = await holdOffLooks('a');
    assert.equal(await looked('a'), 'held off');
    assert.equal(await looked('b'), 'looked', 'another cluster is not held off');
    await lift();
    assert.equal(await looked('a'), 'looked');
  });

  it('a pause waits for the look under way to end before it goes ahead', async () => {
    let endLook: () => void = () => undefined;
    const order: string[] = [];
    const look = lookUnlessPausing(
      'c',
      () =>
        new Promise<string>((resolve) => {
          endLook = () => {
            order.push('look ended');
            resolve('looked');
          };
        }),
      async () => 'held off',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pausing = holdOffLooks('c').then((lift) => {
      order.push('pause may begin');
      return lift;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(order, [], 'the pause did not begin during the look');
    endLook();
    assert.equal(await look, 'looked');
    await (
      await pausing
    )();
    assert.deepEqual(order, ['look ended', 'pause may begin']);
  });

  it('a look left by a process that died holds no pause back', async () => {
    // A pid above the kernel's limit (4194304) belongs to no process.
    await writeFile(join(process.env.KIAB_LOCK_DIR!, 'look-d.left-behind'), `4194399@${hostname()}`);
    const started = Date.now();
    const lift = await holdOffLooks('d');
    assert.ok(Date.now() - started < 5_000, `the pause waited ${Date.now() - started} ms`);
    await lift();
  });

  it('a pause left by a process that died (a capture killed mid-way) holds no look off', async () => {
    await writeFile(join(process.env.KIAB_LOCK_DIR!, 'pausing-e'), `4194399@${hostname()}`);
    assert.equal(await looked('e'), 'looked');
  });
});
