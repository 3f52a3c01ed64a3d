import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterNames } from '../../src/names.js';
import type { ObservedCluster } from '../../src/cluster/lifecycle/observe.js';
import { API_CA_PATH, boxRoutingFiles, FORWARDS_PATH, HAPROXY_CONFIG_PATH } from '../../src/cluster/lifecycle/box.js';
import { boxContainerSpec, desiredMachines, machineContainerSpec, machineSpecHash, WORKER_CPU_SHARES } from '../../src/cluster/lifecycle/topology.js';
import { noneDistribution } from '../../src/distribution/none.js';
import type { Distribution, MachineRef } from '../../src/distribution/types.js';
import { LABEL, type MachineRole } from '../../src/labels.js';
import { machineAddress, parseSubnet } from '../../src/net/addresses.js';
import type { HostPorts } from '../../src/net/ports.js';
import { clusterSpecSchema, type ClusterSpecInput } from '../../src/spec/schema.js';

const subnet = parseSubnet('172.29.0.0/24');
const names = clusterNames('dev');
const ports: HostPorts = { api: 41001, http: 41002, https: 41003, registry: 41004 };
const specOf = (input: Omit<ClusterSpecInput, 'name'> = {}) => clusterSpecSchema.parse({ name: 'dev', ...input });

type Ref = readonly [MachineRole, number];

/** Named machines at their fixed addresses, e.g. machinesOf(['server', 0], ['worker', 1]). */
function machinesOf(...refs: Ref[]): MachineRef[] {
  return refs.map(([role, index]) => ({ name: names.machine(role, index), role, index, ip: machineAddress(subnet, role, index) }));
}

/** A cluster the engine holds with these machines and nothing else. */
function observedWith(refs: readonly Ref[]): ObservedCluster {
  const machines = refs.map(([role, index]) => ({ role, index, container: {} as never }));
  return { name: 'dev', network: undefined, lan: undefined, spec: undefined, ports: undefined, box: undefined, volumes: [], added: [], machines };
}

describe('box routing files', () => {
  const header = '# Written by kiab for cluster dev: PROTOCOL PORTS TARGET';
  const kubeadmLike = { ...noneDistribution, health: { apiPath: '/readyz', nodeProxy: { port: 10256, path: '/healthz' } } } as Distribution;
  const file = (files: ReturnType<typeof boxRoutingFiles>, path: string) => files.find((candidate) => candidate.path === path)?.content as string | undefined;
  const cases = [
    { what: 'no machines: the header alone', machines: machinesOf(), live: [], udp: [] },
    { what: 'servers only: UDP to the first server', machines: machinesOf(['server', 0], ['server', 1]), live: [], udp: ['udp 30000:32767 172.29.0.10'] },
    {
      what: 'with workers: UDP to the first running worker',
      machines: machinesOf(['server', 0], ['worker', 0], ['worker', 1]),
      live: [names.machine('server', 0), names.machine('worker', 1)],
      udp: ['udp 30000:32767 172.29.0.51'],
    },
  ];
  for (const { what, machines, live, udp } of cases) {
    it(what, () => {
      const files = boxRoutingFiles(names, noneDistribution, machines, { live: new Set(live) });
      assert.equal(file(files, FORWARDS_PATH), `${[header, ...udp].join('\n')}\n`);
    });
  }

  it("listens on both families with IPv6, and sends an IPv6-only cluster's web and NodePorts to the machines' IPv6 twins", () => {
    const machines = machinesOf(['server', 0], ['worker', 0]);
    const dual = file(boxRoutingFiles(names, kubeadmLike, machines, { families: { ipv4: true, ipv6: true } }), HAPROXY_CONFIG_PATH)!;
    assert.match(dual, /^ {2}bind :::80 v4v6$/m);
    assert.match(dual, /^ {2}bind :::30000-32767 v4v6$/m);
    assert.match(dual, /^ {2}server kiab-dev-worker-0 172\.29\.0\.50:80 check$/m);
    const ipv6 = file(boxRoutingFiles(names, kubeadmLike, machines, { families: { ipv4: false, ipv6: true } }), HAPROXY_CONFIG_PATH)!;
    assert.match(ipv6, /^ {2}server kiab-dev-worker-0 \[fd6b:6961:62ac:1d00::50\]:80 check$/m);
    assert.match(ipv6, /^ {2}server kiab-dev-worker-0 \[fd6b:6961:62ac:1d00::50\] check port 10256$/m);
    // The API stays on IPv4, where the API server listens too and the box's checks verify it.
    assert.match(ipv6, /^ {2}server kiab-dev-server-0 172\.29\.0\.10:6443 check$/m);
    assert.match(file(boxRoutingFiles(names, kubeadmLike, machines), HAPROXY_CONFIG_PATH)!, /^ {2}bind :80$/m);
  });

  it('checks the API with the cluster CA only once the CA is known, and writes it beside the configuration', () => {
    const machines = machinesOf(['server', 0], ['worker', 0]);
    const before = boxRoutingFiles(names, kubeadmLike, machines);
    assert.equal(file(before, API_CA_PATH), undefined);
    assert.doesNotMatch(file(before, HAPROXY_CONFIG_PATH)!, /readyz/);
    assert.match(file(before, HAPROXY_CONFIG_PATH)!, /check port 10256/);
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const after = boxRoutingFiles(names, kubeadmLike, machines, { apiCertificateAuthority: ca });
    assert.equal(file(after, API_CA_PATH), ca);
    assert.match(file(after, HAPROXY_CONFIG_PATH)!, new RegExp(`verify required ca-file ${API_CA_PATH}`));
    assert.match(file(after, HAPROXY_CONFIG_PATH)!, /uri \/readyz/);
  });

  it('does not check what a distribution has no health endpoint for', () => {
    const config = file(boxRoutingFiles(names, noneDistribution, machinesOf(['server', 0]), { apiCertificateAuthority: 'x' }), HAPROXY_CONFIG_PATH)!;
    assert.doesNotMatch(config, /httpchk|ca-file/);
  });
});

describe('box container', () => {
  const cases = [
    { registry: true, published: { 6443: 41001, 80: 41002, 443: 41003, 5000: 41004 }, volumes: ['kiab-dev-registry:/var/lib/docker-registry'] },
    { registry: false, published: { 6443: 41001, 80: 41002, 443: 41003 }, volumes: [] },
  ];
  for (const { registry, published, volumes } of cases) {
    it(`registry ${registry ? 'enabled' : 'disabled'}: publishes ${Object.keys(published).join(', ')} on loopback only`, () => {
      const box = boxContainerSpec(specOf({ registry: { enabled: registry } }), names, subnet, ports);
      assert.deepEqual(Object.fromEntries(box.publish.map((port) => [port.containerPort, port.hostPort])), published);
      assert.ok(box.publish.every((port) => port.hostIp === '127.0.0.1' && port.protocol === 'tcp'));
      assert.deepEqual(
        box.volumes.map((volume) => `${volume.name}:${volume.path}`),
        volumes,
      );
    });
  }

  it("is the cluster's router at .2, labelled with its address and ports", () => {
    const box = boxContainerSpec(specOf(), names, subnet, ports);
    assert.equal(box.kind, 'router');
    assert.deepEqual(box.network, { name: 'kiab-dev', ip: '172.29.0.2' });
    assert.equal(box.labels[LABEL.cluster], 'dev');
    assert.equal(box.labels[LABEL.role], 'box');
    assert.equal(box.labels[LABEL.ip], '172.29.0.2');
    assert.deepEqual(JSON.parse(box.labels[LABEL.ports]!), ports);
  });
});

describe('machine container', () => {
  /** A distribution that wants an extra volume on servers only, to see the role passed through. */
  const distribution: Distribution = { ...noneDistribution, machineVolumes: (role) => (role === 'server' ? [{ purpose: 'etcd', path: '/var/lib/etcd' }] : []) };
  const spec = specOf({ workers: 2 });
  const [server0, worker1] = machinesOf(['server', 0], ['worker', 1]) as [MachineRef, MachineRef];

  const cases = [
    { machine: server0, volumes: ['kiab-dev-server-0-containerd:/var/lib/containerd', 'kiab-dev-server-0-etcd:/var/lib/etcd'] },
    { machine: worker1, volumes: ['kiab-dev-worker-1-containerd:/var/lib/containerd'] },
  ];
  for (const { machine, volumes } of cases) {
    it(`${machine.name}: containerd and the distribution's volumes, labelled as the cluster's`, () => {
      const container = machineContainerSpec(spec, names, machine, distribution, 'kiab/node:1');
      assert.deepEqual(
        container.volumes.map((volume) => `${volume.name}:${volume.path}`),
        volumes,
      );
      for (const volume of container.volumes) {
        assert.equal(volume.labels[LABEL.cluster], 'dev');
        assert.equal(volume.labels[LABEL.role], 'volume');
      }
    });

    it(`${machine.name}: a machine at its fixed address, labelled with role, index, ip and spec hash`, () => {
      const container = machineContainerSpec(spec, names, machine, distribution, 'kiab/node:1');
      assert.equal(container.kind, 'machine');
      assert.equal(container.image, 'kiab/node:1');
      assert.deepEqual(container.network, { name: 'kiab-dev', ip: machine.ip });
      assert.deepEqual(container.publish, []);
      assert.equal(container.labels[LABEL.role], machine.role);
      assert.equal(container.labels[LABEL.index], String(machine.index));
      assert.equal(container.labels[LABEL.ip], machine.ip);
      assert.equal(container.labels[LABEL.specHash], machineSpecHash(spec));
    });
  }

  it('weighs a worker at a quarter of a server when they contend for CPU, where servers run a control plane', () => {
    const kubernetes: Distribution = { ...distribution, kubernetes: true };
    assert.equal(machineContainerSpec(spec, names, server0, kubernetes, 'kiab/node:1').cpuShares, undefined);
    assert.equal(machineContainerSpec(spec, names, worker1, kubernetes, 'kiab/node:1').cpuShares, WORKER_CPU_SHARES);
    assert.ok(WORKER_CPU_SHARES < 1024);
    // Bare machines are all alike.
    assert.equal(machineContainerSpec(spec, names, worker1, distribution, 'kiab/node:1').cpuShares, undefined);
  });
});

describe('desired machines', () => {
  const cases = [
    { what: 'the spec alone', servers: 2, workers: 1, observed: [], expected: ['server-0', 'server-1', 'worker-0'] },
    { what: 'more servers observed than the spec asks for', servers: 1, workers: 0, observed: [['server', 2]], expected: ['server-0', 'server-2'] },
    {
      what: 'observed machines already in the spec, listed workers first',
      servers: 1,
      workers: 1,
      observed: [
        ['worker', 0],
        ['server', 0],
      ],
      expected: ['server-0', 'worker-0'],
    },
    {
      what: 'a spec shrunk below what runs',
      servers: 1,
      workers: 0,
      observed: [
        ['worker', 3],
        ['worker', 1],
        ['server', 1],
      ],
      expected: ['server-0', 'server-1', 'worker-1', 'worker-3'],
    },
  ] as const;
  for (const { what, servers, workers, observed, expected } of cases) {
    it(`${what}: ${expected.join(', ')}`, () => {
      const machines = desiredMachines(specOf({ servers, workers }), observedWith(observed), subnet);
      assert.deepEqual(
        machines.map((machine) => `${machine.role}-${machine.index}`),
        expected,
      );
    });
  }
});
