import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { classifyK3sFile, k3sAssetNames, k3sAssetUrl, parseSums } from '../../src/distribution/k3s/release.js';
import { joinPlan, k3sConfig, k3sRegistries, type K3sFacts } from '../../src/distribution/k3s/config.js';
import type { MachineRef } from '../../src/distribution/types.js';
import { registryEndpoints } from '../../src/registry/index.js';

const server0: MachineRef = { name: 'kiab-dev-server-0', role: 'server', index: 0, ip: '172.28.0.10' };
const server1: MachineRef = { name: 'kiab-dev-server-1', role: 'server', index: 1, ip: '172.28.0.11' };
const worker0: MachineRef = { name: 'kiab-dev-worker-0', role: 'worker', index: 0, ip: '172.28.0.50' };
const facts: K3sFacts = {
  boxHostname: 'kiab-dev-box',
  boxIp: '172.28.0.2',
  externalAddresses: [],
  highAvailability: false,
  untaintServers: false,
  disable: [],
};

describe('k3s join planning', () => {
  it('the first server initialises, other servers join it, agents go through the box', () => {
    assert.deepEqual(joinPlan(server0, server0, facts), { role: 'server', initialises: true });
    assert.deepEqual(joinPlan(server1, server0, facts), { role: 'server', initialises: false, server: 'https://172.28.0.10:6443' });
    assert.deepEqual(joinPlan(worker0, server0, facts), { role: 'agent', initialises: false, server: 'https://kiab-dev-box:6443' });
  });
});

describe('k3s config.yaml', () => {
  it('gives the first server its SANs, node identity and host workarounds, and no secret', () => {
    const config = parse(k3sConfig(server0, joinPlan(server0, server0, facts), facts)) as Record<string, unknown>;
    assert.deepEqual(config['tls-san'], ['172.28.0.2', 'kiab-dev-box', 'localhost', '127.0.0.1']);
    assert.equal(config['node-ip'], '172.28.0.10');
    assert.equal(config['node-name'], 'kiab-dev-server-0');
    assert.deepEqual(config['kube-proxy-arg'], ['conntrack-max-per-core=0']);
    assert.deepEqual(config['kubelet-arg'], ['fail-cgroupv1=false']);
    assert.equal(config['cluster-init'], undefined, 'a single server keeps the default datastore');
    assert.equal(config.token, undefined);
    assert.equal(config.server, undefined);
  });

  it('turns on embedded etcd for an HA control plane', () => {
    const ha = { ...facts, highAvailability: true };
    assert.equal((parse(k3sConfig(server0, joinPlan(server0, server0, ha), ha)) as Record<string, unknown>)['cluster-init'], true);
    assert.equal((parse(k3sConfig(server1, joinPlan(server1, server0, ha), ha)) as Record<string, unknown>).server, 'https://172.28.0.10:6443');
  });

  it('points agents at the box and gives them no server settings', () => {
    const config = parse(k3sConfig(worker0, joinPlan(worker0, server0, facts), facts)) as Record<string, unknown>;
    assert.equal(config.server, 'https://kiab-dev-box:6443');
    assert.equal(config['tls-san'], undefined);
  });

  it('lets servers run workloads when there are no workers', () => {
    const alone = { ...facts, untaintServers: true };
    assert.equal((parse(k3sConfig(server0, joinPlan(server0, server0, alone), alone)) as Record<string, unknown>)['node-taint'], undefined);
    assert.deepEqual((parse(k3sConfig(server0, joinPlan(server0, server0, facts), facts)) as Record<string, unknown>)['node-taint'], [
      'node-role.kubernetes.io/control-plane:NoSchedule',
    ]);
  });
});

describe('k3s registries.yaml', () => {
  it('maps the host-side name and the box name to the box registry over HTTP', () => {
    const document = parse(k3sRegistries(registryEndpoints('kiab-dev-box', 5001))) as { mirrors: Record<string, { endpoint: string[] }> };
    assert.deepEqual(document.mirrors['localhost:5001']?.endpoint, ['http://kiab-dev-box:5000']);
    assert.deepEqual(document.mirrors['kiab-dev-box:5000']?.endpoint, ['http://kiab-dev-box:5000']);
  });
});

describe('k3s release assets', () => {
  it('names the files per architecture and builds release URLs', () => {
    assert.deepEqual(k3sAssetNames('amd64'), { binary: 'k3s', sums: 'sha256sum-amd64.txt', images: 'k3s-airgap-images-amd64.tar.zst' });
    assert.equal(k3sAssetNames('arm64').binary, 'k3s-arm64');
    assert.equal(k3sAssetUrl('v1.36.4+k3s1', 'k3s', { KIAB_K3S_RELEASE_URL: 'http://mirror/k3s/' }), 'http://mirror/k3s/v1.36.4%2Bk3s1/k3s');
    assert.deepEqual(classifyK3sFile('k3s-airgap-images-arm64.tar.zst'), { arch: 'arm64', kind: 'images' });
    assert.equal(classifyK3sFile('k3s.tar.gz'), undefined);
  });

  it('parses sha256sum listings, ignoring anything else', () => {
    const hash = 'a'.repeat(64);
    const sums = parseSums(`${hash}  k3s\n${'b'.repeat(64)} *k3s-airgap-images-amd64.tar.zst\nnot a line\n`);
    assert.equal(sums.get('k3s'), hash);
    assert.equal(sums.get('k3s-airgap-images-amd64.tar.zst'), 'b'.repeat(64));
    assert.equal(sums.size, 2);
  });
});
