import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, kiab, kiabOk, labelledObjects, tempDir } from './helpers.js';

const RESTORED = 'hd-rs-a';
const TAKER = 'hd-rs-b';

async function clusterSubnet(cluster: string): Promise<string> {
  const [network] = (await labelledObjects(cluster)).networks;
  assert.ok(network, `cluster ${cluster} has a network`);
  return docker(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', network]);
}

describe('restore goes back to the subnet its snapshot was taken on', () => {
  before(async () => {
    await kiab(['delete', RESTORED, TAKER]);
  });
  after(async () => {
    await kiab(['delete', RESTORED, TAKER]);
  });

  it('refuses in seconds, naming the cluster that took the subnet, and restores onto it once that is gone', async () => {
    await kiabOk(['up', RESTORED, '--k8s', 'none', '--workers', '1']);
    const subnet = await clusterSubnet(RESTORED);
    await kiabOk(['delete', RESTORED, '--keep-snapshots']);
    // Another cluster takes the subnet meanwhile.
    const config = join(await tempDir('kiab-rs-'), 'kiab.yaml');
    await writeFile(config, `network:\n  subnet: ${subnet}\n`);
    await kiabOk(['up', TAKER, '-c', config, '--k8s', 'none', '--workers', '0', '--no-snapshot']);
    assert.equal(await clusterSubnet(TAKER), subnet);

    const started = Date.now();
    const refused = await kiab(['snapshot', 'restore', RESTORED, 'clean'], { timeoutMs: 120_000 });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`^kiab: .*${subnet.replace(/\./g, '\\.')}.*cluster ${TAKER}`, 'm'));
    assert.deepEqual(await labelledObjects(RESTORED), { containers: [], networks: [], volumes: [] }, 'nothing made by the refused restore');

    await kiabOk(['delete', TAKER]);
    await kiabOk(['snapshot', 'restore', RESTORED, 'clean']);
    assert.equal(await clusterSubnet(RESTORED), subnet);
  });

  it('a new cluster leaves a kept snapshot its subnet, and the same cluster made again goes back to it', async () => {
    await kiabOk(['up', RESTORED, '--k8s', 'none', '--workers', '0']);
    const subnet = await clusterSubnet(RESTORED);
    await kiabOk(['delete', RESTORED, '--keep-snapshots']);
    await kiabOk(['up', TAKER, '--k8s', 'none', '--workers', '0', '--no-snapshot']);
    assert.notEqual(await clusterSubnet(TAKER), subnet, "the new cluster took the kept snapshot's subnet");
    await kiabOk(['snapshot', 'restore', RESTORED, 'clean']);
    assert.equal(await clusterSubnet(RESTORED), subnet);

    await kiabOk(['delete', RESTORED, '--keep-snapshots']);
    await kiabOk(['up', RESTORED, '--k8s', 'none', '--workers', '0']);
    assert.equal(await clusterSubnet(RESTORED), subnet);
    await kiabOk(['delete', RESTORED, TAKER]);
  });
});
