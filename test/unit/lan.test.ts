import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { deleteCluster } from '../../src/cluster/lifecycle/delete.js';
import { clusterKubeconfig } from '../../src/cluster/kubernetes/wait-ready.js';
import { apiServerUrl } from '../../src/cluster/kubernetes/user-kubeconfig.js';
import { UsageError } from '../../src/errors.js';
import { LABEL } from '../../src/labels.js';
import { lanAddressProblem, parseLanAddress } from '../../src/net/lan.js';
import { parseSpecSource } from '../../src/spec/load.js';
import { engine, inventory, isolateFolders, upCluster } from '../fakes/cluster.js';

before(isolateFolders);

const LAN = { lan: { parent: 'eth9', address: '192.168.250.10/24' } };
const PROBE = 'arping -D';

describe('LAN addresses', () => {
  it('reads ADDR/PREFIX into the prefix and a gateway at its first address unless given', () => {
    assert.deepEqual(parseLanAddress('192.168.1.240/24'), { address: '192.168.1.240', prefixLength: 24, cidr: '192.168.1.0/24', gateway: '192.168.1.1' });
    assert.deepEqual(parseLanAddress('10.1.2.3/16', '10.1.0.254'), { address: '10.1.2.3', prefixLength: 16, cidr: '10.1.0.0/16', gateway: '10.1.0.254' });
  });

  it('refuses what no host can take', () => {
    assert.match(lanAddressProblem('192.168.1.240')!, /with its prefix length/);
    assert.match(lanAddressProblem('192.168.1.0/24')!, /network or broadcast/);
    assert.match(lanAddressProblem('192.168.1.255/24')!, /network or broadcast/);
    assert.match(lanAddressProblem('192.168.1.5/31')!, /prefix length from/);
    assert.match(lanAddressProblem('300.1.1.1/24')!, /IPv4 address/);
    assert.equal(lanAddressProblem('192.168.1.240/24'), undefined);
  });

  it('names the flag of a missing or bad field, and the file field of a bad gateway', () => {
    assert.throws(() => parseSpecSource({ flags: { network: { lan: { parent: 'eth0' } as never } } }), /^UsageError: --lan-address: is needed/);
    assert.throws(() => parseSpecSource({ flags: { network: { lan: { parent: 'eth0/x', address: '10.0.0.5/24' } } } }), /--lan-parent: must be the name/);
    assert.throws(
      () => parseSpecSource({ fileText: 'network:\n  lan:\n    parent: eth0\n    address: 10.0.0.5/24\n    gateway: 10.0.1.1\n' }),
      /kiab\.yaml:5:14: network\.lan\.gateway: must lie in 10\.0\.0\.0\/24/,
    );
  });

  it('puts the LAN address in the kubeconfig only for a cluster that has one', () => {
    const ports = { api: 1, http: 2, https: 3, registry: 4 };
    assert.equal(apiServerUrl(ports, '172.28.0.2', 'lan', '127.0.0.1', '192.168.250.10'), 'https://192.168.250.10:6443');
    assert.throws(() => apiServerUrl(ports, '172.28.0.2', 'lan'), UsageError);
  });
});

describe('up on a LAN', () => {
  it('probes the address from the LAN network before the cluster network, then the box joins at that address', async () => {
    const provider = engine();
    const status = await upCluster(provider, 'dev', { workers: 0 }, { network: LAN });
    const lan = provider.networks.get('kiab-dev.lan')!;
    assert.equal(lan.parent, 'eth9');
    assert.equal(lan.labels[LABEL.role], 'lan');
    const created = provider.calls.filter((call) => call.method === 'createNetwork').map((call) => call.args[0] as { name: string; macvlan?: unknown });
    assert.deepEqual(
      created.map((spec) => spec.name),
      ['kiab-dev.lan', 'kiab-dev'],
    );
    assert.deepEqual(created[0]!.macvlan, { parent: 'eth9', ipRange: '192.168.250.10/32' });
    const probes = provider.calls.filter((call) => call.method === 'exec' && (call.args[0] as string[]).join(' ').startsWith(PROBE));
    assert.equal(probes.length, 1);
    assert.equal(probes[0]!.name, 'kiab-dev.lan-probe');
    assert.ok(!provider.containers.has('kiab-dev.lan-probe'), 'the probe is gone');
    assert.equal(provider.containers.get('kiab-dev-box')!.info.addresses['kiab-dev.lan'], '192.168.250.10');
    assert.deepEqual(status.lan, { parent: 'eth9', address: '192.168.250.10', network: 'kiab-dev.lan', joined: true });
  });

  it('an address a host of the LAN answers for is refused, exit 2, and nothing is left', async () => {
    const provider = engine();
    provider.onExec('kiab-dev.lan-probe', PROBE, { exitCode: 1 });
    await assert.rejects(upCluster(provider, 'dev', {}, { network: LAN }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /^--lan-address: 192\.168\.250\.10 is already in use on the LAN of eth9/);
      return true;
    });
    assert.deepEqual(inventory(provider, 'dev'), { containers: [], networks: [], volumes: [], images: [] });
  });

  it('a link that already carries a macvlan network is refused by name', async () => {
    const provider = engine();
    await upCluster(provider, 'one', { workers: 0 }, { network: LAN });
    await assert.rejects(
      upCluster(provider, 'two', { workers: 0 }, { network: { lan: { parent: 'eth9', address: '192.168.250.11/24' } } }),
      /^UsageError: --lan-parent: eth9 already carries the macvlan network kiab-one\.lan \(cluster one\)/,
    );
    assert.ok(![...provider.networks.keys()].some((name) => name.includes('two')));
  });

  it('a second up neither probes again nor changes the address; delete removes the LAN network', async () => {
    const provider = engine();
    await upCluster(provider, 'dev', { workers: 0 }, { network: LAN });
    provider.resetCalls();
    await upCluster(provider, 'dev', { workers: 0 }, { network: LAN });
    assert.ok(!provider.calls.some((call) => call.name === 'kiab-dev.lan-probe' || call.method === 'connectNetwork'));
    const result = await deleteCluster(provider, 'dev');
    assert.equal(result.networks, 2);
    assert.deepEqual(inventory(provider, 'dev').networks, []);
  });

  it('a cluster without a LAN refuses --api-address lan', async () => {
    const provider = engine();
    await upCluster(provider, 'dev', { workers: 0 });
    const { loadCluster } = await import('../../src/cluster/context.js');
    await assert.rejects(clusterKubeconfig(await loadCluster(provider, 'dev'), [], 'lan'), /--api-address lan: the cluster has no LAN address/);
  });
});
