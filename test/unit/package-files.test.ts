import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NETWORK_POLICY_QUEUE } from '../../src/addons/index.js';
import { POD_NETWORK_ENV_PATH, POD_NETWORK_SCRIPT, POD_ROUTES_PATH } from '../../src/distribution/kubeadm/network.js';
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
});
