import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { V1EndpointSlice, V1Lease, V1Node, V1Pod } from '@kubernetes/client-node';
import { dnsProblem, kubernetesProblem } from '../../src/cluster/kubernetes/api-ready.js';
import { staleLeases } from '../../src/cluster/kubernetes/stale-leases.js';
import { apiServerUrl, userKubeconfig, type ApiAddress } from '../../src/cluster/kubernetes/user-kubeconfig.js';
import type { MachineRef } from '../../src/distribution/types.js';
import { clusterNames } from '../../src/names.js';
import { KiabError } from '../../src/errors.js';
import type { HostPorts } from '../../src/net/ports.js';

const clusterEntry = `clusters:
- name: default
  cluster: {certificate-authority-data: Q0EtREFUQQ==, server: 'https://127.0.0.1:6443'}
`;
const userEntry = `users:
- name: default
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
`;
const admin = `apiVersion: v1
kind: Config
${clusterEntry}${userEntry}contexts:
- name: default
  context: {cluster: default, user: default}
current-context: default
`;

interface Kubeconfig {
  clusters: Array<{ name: string; cluster: Record<string, string> }>;
  users: Array<{ name: string; user: Record<string, string> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  'current-context': string;
}

describe('user kubeconfig', () => {
  const server = 'https://127.0.0.1:41001';
  const config = parse(userKubeconfig(admin, clusterNames('dev'), server)) as Kubeconfig;

  it('points the cluster at the given server and keeps its CA', () => {
    assert.deepEqual(config.clusters, [{ name: 'kiab-dev', cluster: { 'certificate-authority-data': 'Q0EtREFUQQ==', server } }]);
  });

  it('keeps the client certificate and key', () => {
    assert.deepEqual(config.users, [{ name: 'kiab-dev', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }]);
  });

  it('names everything kiab-NAME and makes that the current context', () => {
    assert.deepEqual(config.contexts, [{ name: 'kiab-dev', context: { cluster: 'kiab-dev', user: 'kiab-dev' } }]);
    assert.equal(config['current-context'], 'kiab-dev');
  });

  const broken = [
    { what: 'no cluster', text: `apiVersion: v1\n${userEntry}` },
    { what: 'no user', text: `apiVersion: v1\n${clusterEntry}` },
    { what: 'empty lists', text: 'clusters: []\nusers: []\n' },
  ];
  for (const { what, text } of broken) {
    it(`refuses an admin kubeconfig with ${what}`, () => {
      assert.throws(() => userKubeconfig(text, clusterNames('dev'), server), KiabError);
    });
  }
});

describe('API server URL', () => {
  const ports: HostPorts = { api: 41001, http: 41002, https: 41003, registry: 41004 };
  const cases: Array<{ address: ApiAddress; url: string }> = [
    { address: 'localhost', url: 'https://127.0.0.1:41001' },
    { address: 'box', url: 'https://172.28.0.2:6443' },
  ];
  for (const { address, url } of cases) {
    it(`${address}: ${url}`, () => {
      assert.equal(apiServerUrl(ports, '172.28.0.2', address), url);
    });
  }
});

describe('Kubernetes readiness', () => {
  const machines: MachineRef[] = [
    { name: 'kiab-dev-server-0', role: 'server', index: 0, ip: '172.28.0.10' },
    { name: 'kiab-dev-worker-0', role: 'worker', index: 0, ip: '172.28.0.50' },
  ];
  const at = (second: number): Date => new Date(Date.UTC(2026, 10, 26, 7, 0, second));
  const node = (name: string, ready: boolean, heartbeat = at(0)): V1Node => ({
    metadata: { name },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastHeartbeatTime: heartbeat }] },
  });
  const pod = (name: string, ready: boolean, startedAt = at(0)): V1Pod => ({
    metadata: { name },
    status: { phase: 'Running', containerStatuses: [{ name, ready, restartCount: 0, image: '', imageID: '', state: { running: { startedAt } } }] },
  });
  const nodes = [node('kiab-dev-server-0', true), node('kiab-dev-worker-0', true)];
  const pods = [pod('etcd-kiab-dev-server-0', true), pod('coredns-abc', true)];
  const cases: Array<{ what: string; nodes: V1Node[]; pods: V1Pod[]; since?: Date; problem: string | undefined }> = [
    { what: 'every node Ready and every system pod ready', nodes, pods, problem: undefined },
    { what: 'a node not Ready', nodes: [nodes[0]!, node('kiab-dev-worker-0', false)], pods, problem: 'kiab-dev-worker-0 not Ready' },
    { what: 'a node not registered yet', nodes: [nodes[0]!], pods, problem: 'kiab-dev-worker-0 not Ready' },
    { what: 'a system pod not ready', nodes, pods: [pods[0]!, pod('coredns-abc', false)], problem: 'waiting for coredns to run' },
    { what: 'a system pod missing', nodes, pods: [pods[1]!], problem: 'waiting for etcd to run' },
    { what: 'after a restore, Ready remembered from before it', nodes, pods, since: at(5), problem: 'kiab-dev-server-0, kiab-dev-worker-0 not Ready' },
    {
      what: 'after a restore, fresh heartbeats but containers from before it',
      nodes: [node('kiab-dev-server-0', true, at(6)), node('kiab-dev-worker-0', true, at(7))],
      pods: [pod('etcd-kiab-dev-server-0', true, at(6)), pods[1]!],
      since: at(5),
      problem: 'waiting for coredns to run',
    },
    {
      what: 'after a restore, everything reported since (the same second counts)',
      nodes: [node('kiab-dev-server-0', true, at(5)), node('kiab-dev-worker-0', true, at(7))],
      pods: [pod('etcd-kiab-dev-server-0', true, at(6)), pod('coredns-abc', true, at(5))],
      since: new Date(at(5).getTime() + 700),
      problem: undefined,
    },
  ];
  for (const { what, nodes: listed, pods: running, since, problem } of cases) {
    it(`${what}: ${problem ?? 'ready'}`, () => {
      assert.equal(kubernetesProblem(listed, running, machines, ['etcd', 'coredns'], since), problem);
    });
  }
});

describe('stale leases after a restore', () => {
  const since = new Date('2026-11-26T07:00:05Z');
  const lease = (name: string, renewTime: string | undefined, holderIdentity: string | undefined = `${name}-holder`): V1Lease => ({
    metadata: { name, resourceVersion: `rv-${name}` },
    spec: { ...(holderIdentity ? { holderIdentity } : {}), ...(renewTime ? { renewTime: new Date(renewTime) } : {}) },
  });
  const cases: Array<{ what: string; leases: V1Lease[]; stale: string[] }> = [
    { what: 'renewed before the restore', leases: [lease('kube-controller-manager', '2026-11-26T07:00:04.999Z')], stale: ['kube-controller-manager'] },
    { what: 'renewed since (a new holder)', leases: [lease('kube-scheduler', '2026-11-26T07:00:05.000Z')], stale: [] },
    { what: 'held by nobody', leases: [lease('kube-scheduler', '2026-11-26T07:00:01Z', '')], stale: [] },
    { what: 'never renewed', leases: [lease('kube-scheduler', undefined)], stale: [] },
  ];
  for (const { what, leases, stale } of cases) {
    it(`${what}: ${stale.length ? 'released at the version seen' : 'left alone'}`, () => {
      assert.deepEqual(
        staleLeases(leases, since),
        stale.map((name) => ({ name, resourceVersion: `rv-${name}` })),
      );
    });
  }
});

describe('the DNS Service leads to the running CoreDNS', () => {
  const pod = (ip: string): V1Pod => ({ metadata: { name: `coredns-${ip}` }, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } });
  const slice = (...endpoints: Array<[string, boolean]>): V1EndpointSlice => ({
    addressType: 'IPv4',
    endpoints: endpoints.map(([address, ready]) => ({ addresses: [address], conditions: { ready } })),
  });
  const waiting = 'waiting for the DNS Service to lead to the running CoreDNS';
  const cases: Array<{ what: string; slices: V1EndpointSlice[]; pods: V1Pod[]; problem: string | undefined }> = [
    {
      what: 'every ready endpoint a running pod',
      slices: [slice(['10.244.0.4', true], ['10.244.1.2', true])],
      pods: [pod('10.244.0.4'), pod('10.244.1.2')],
      problem: undefined,
    },
    {
      what: 'an endpoint remembered from a capture',
      slices: [slice(['10.244.0.4', true], ['10.244.0.9', true])],
      pods: [pod('10.244.0.4'), pod('10.244.0.5')],
      problem: waiting,
    },
    { what: 'only endpoints not ready', slices: [slice(['10.244.0.4', false])], pods: [pod('10.244.0.4')], problem: waiting },
    { what: 'a stale endpoint marked not ready', slices: [slice(['10.244.0.4', true], ['10.244.0.9', false])], pods: [pod('10.244.0.4')], problem: undefined },
    { what: 'no endpoint at all', slices: [slice()], pods: [pod('10.244.0.4')], problem: waiting },
  ];
  for (const { what, slices, pods, problem } of cases) {
    it(`${what}: ${problem ? 'waits' : 'ready'}`, () => {
      assert.equal(dnsProblem(slices, pods), problem);
    });
  }
});
