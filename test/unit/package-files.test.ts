import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NETWORK_POLICY_QUEUE, networkPolicyManifest } from '../../src/addons/index.js';
import { POD_NETWORK_ENV_PATH, POD_NETWORK_SCRIPT, POD_ROUTES_PATH, POLICY_QUEUE_PATH } from '../../src/distribution/kubeadm/network.js';
import { packageRoot, readPackageFile } from '../../src/package-files.js';

describe('package files', () => {
  it('finds the package root from source', () => {
    assert.equal(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).name, 'kube-in-a-box');
  });

  it('names the missing file when one is absent', () => {
    assert.throws(() => readPackageFile('src/images/files/no-such-file'), /incompletely installed.*no-such-file/);
  });

  it('keeps the pod network script in step with the files it reads, and spells out no range of its own', () => {
    assert.ok(POD_NETWORK_SCRIPT.includes(POD_ROUTES_PATH));
    assert.equal(POD_NETWORK_SCRIPT.match(new RegExp(`echo (nftables|xtables) >${POLICY_QUEUE_PATH}`, 'g'))?.length, 2);
    assert.ok(POD_NETWORK_SCRIPT.includes(`. ${POD_NETWORK_ENV_PATH}`));
    assert.deepEqual(POD_NETWORK_SCRIPT.match(/\d+\.\d+\.\d+\.\d+\/\d+/g), null);
    assert.deepEqual(POD_NETWORK_SCRIPT.match(/[0-9a-f]{0,4}:[0-9a-f:]*\/\d+/gi), null);
    // Each family's service range, read from the environment file, refused where kube-proxy did not translate.
    assert.match(POD_NETWORK_SCRIPT, /echo "iptables \$POD_CIDR \$SERVICE_CIDR"/);
    assert.match(POD_NETWORK_SCRIPT, /echo "ip6tables \$POD_CIDR6 \$SERVICE_CIDR6"/);
    assert.equal(POD_NETWORK_SCRIPT.match(/-d "\$services" -j REJECT/g)?.length, 2);
  });

  it('sends packets to the queue the network policy controller reads', () => {
    const queues = [...POD_NETWORK_SCRIPT.matchAll(/queue(?:-num| num) (\d+)/g)].map((match) => Number(match[1]));
    assert.ok(queues.length >= 3);
    assert.deepEqual(new Set(queues), new Set([NETWORK_POLICY_QUEUE]));
  });

  it("serves AdminNetworkPolicy only where the kernel has nftables' queue, BaselineAdminNetworkPolicy always", () => {
    const args = (adminNetworkPolicy: boolean): string[] => {
      const documents = networkPolicyManifest({ host: '172.28.0.2', port: 6443 }, [], { adminNetworkPolicy }).split('---\n');
      const list = JSON.parse(documents.at(-1)!) as {
        items: Array<{ kind: string; spec?: { template: { spec: { containers: Array<{ args: string[] }> } } } }>;
      };
      return list.items.find((item) => item.kind === 'DaemonSet')!.spec!.template.spec.containers[0]!.args;
    };
    assert.ok(args(true).includes('--admin-network-policy') && args(true).includes('--baseline-admin-network-policy'));
    assert.ok(!args(false).includes('--admin-network-policy') && args(false).includes('--baseline-admin-network-policy'));
  });
});
