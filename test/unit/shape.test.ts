import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { shapedNode } from '../../src/cluster/kubernetes/node-shape.js';
import { initConfig, joinConfig, kubeProxyConfig, type ClusterFacts } from '../../src/distribution/kubeadm/config.js';
import { checkKubeadmPatches } from '../../src/distribution/kubeadm/shape-check.js';
import type { MachineRef } from '../../src/distribution/types.js';
import { patchedContainerdConfig } from '../../src/images/containerd-config.js';
import { containerdMirrorHostsFiles } from '../../src/registry/index.js';
import { parseSpec } from '../../src/spec/load.js';
import type { ClusterSpecInput } from '../../src/spec/schema.js';

type Document = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const server0: MachineRef = { name: 'kiab-dev-server-0', role: 'server', index: 0, ip: '172.28.0.10' };
const worker0: MachineRef = { name: 'kiab-dev-worker-0', role: 'worker', index: 0, ip: '172.28.0.50' };

function factsFor(input: Omit<ClusterSpecInput, 'name'>): ClusterFacts {
  return {
    clusterName: 'dev',
    kubernetesVersion: 'v1.37.2',
    boxHostname: 'kiab-dev-box',
    boxIp: '172.28.0.2',
    controlPlaneEndpoint: 'kiab-dev-box:6443',
    externalAddresses: [],
    untaintServers: false,
    shape: parseSpec({ flags: { name: 'dev', ...input } }),
  };
}

const documents = (text: string): Document[] => parseAllDocuments(text).map((document) => document.toJS() as Document);
const byKind = (text: string, kind: string): Document => documents(text).find((document) => document.kind === kind)!;
const arg = (args: Array<{ name: string; value: string }>, name: string): string | undefined => args.find((entry) => entry.name === name)?.value;

describe('the kubeadm documents a spec shapes', () => {
  it('gives feature gates to every component that takes them, beside kiab’s own kubelet gate', () => {
    const facts = factsFor({ featureGates: { InPlacePodVerticalScaling: true, Other: false } });
    const init = initConfig(server0, facts);
    const cluster = byKind(init, 'ClusterConfiguration');
    for (const component of ['apiServer', 'controllerManager', 'scheduler'])
      assert.equal(arg(cluster[component].extraArgs, 'feature-gates'), 'InPlacePodVerticalScaling=true,Other=false', component);
    assert.deepEqual(byKind(init, 'KubeletConfiguration').featureGates, {
      ReduceDefaultCrashLoopBackOffDecay: true,
      InPlacePodVerticalScaling: true,
      Other: false,
    });
    assert.deepEqual((parse(kubeProxyConfig(worker0, facts, 'iptables')) as Document).featureGates, { InPlacePodVerticalScaling: true, Other: false });
  });

  it('passes runtime config and extra certificate names to the API server', () => {
    const cluster = byKind(
      initConfig(server0, factsFor({ runtimeConfig: { 'api/alpha': 'true' }, apiServer: { certSANs: ['dev.example'] } })),
      'ClusterConfiguration',
    );
    assert.equal(arg(cluster.apiServer.extraArgs, 'runtime-config'), 'api/alpha=true');
    assert.ok(cluster.apiServer.certSANs.includes('dev.example'));
    assert.ok(cluster.apiServer.certSANs.includes('kiab-dev-box'), 'kiab’s own names stay');
  });

  it('registers labels the kubelet may set and the taints, keeping the control-plane taint', () => {
    const facts = factsFor({
      nodes: [
        { role: 'server', labels: { tier: 'cp', 'node-role.kubernetes.io/edge': '' }, taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] },
        { role: 'worker', labels: { tier: 'web' } },
      ],
    });
    const init = byKind(initConfig(server0, facts), 'InitConfiguration');
    assert.equal(arg(init.nodeRegistration.kubeletExtraArgs, 'node-labels'), 'tier=cp', 'a node-role label is set through the API, not by the kubelet');
    assert.deepEqual(init.nodeRegistration.taints, [
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'x', effect: 'NoSchedule' },
    ]);
    const join = parse(joinConfig(worker0, facts, 'abcdef.0123456789abcdef')) as Document;
    assert.equal(arg(join.nodeRegistration.kubeletExtraArgs, 'node-labels'), 'tier=web');
    assert.equal(join.nodeRegistration.taints, undefined, 'a worker without taints keeps kubeadm’s default (none)');
  });

  it('applies merge patches by kind: flags merge by name in either form, SANs add up, other lists replace', () => {
    const facts = factsFor({
      kubeadmConfigPatches: [
        'kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    event-ttl: 2h0m0s\n    enable-aggregator-routing: "false"\n  certSANs: [extra.example]\n',
        'kind: KubeletConfiguration\nmaxPods: 50\n',
      ],
      nodes: [{ role: 'server', kubeadmConfigPatches: ['kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n  - name: v\n    value: "4"\n'] }],
    });
    const init = initConfig(server0, facts);
    const cluster = byKind(init, 'ClusterConfiguration');
    assert.equal(arg(cluster.apiServer.extraArgs, 'event-ttl'), '2h0m0s');
    assert.equal(arg(cluster.apiServer.extraArgs, 'enable-aggregator-routing'), 'false', 'a patch overrides kiab’s flag of the same name');
    assert.ok(cluster.apiServer.certSANs.includes('extra.example') && cluster.apiServer.certSANs.includes('localhost'));
    assert.equal(byKind(init, 'KubeletConfiguration').maxPods, 50);
    const registration = byKind(init, 'InitConfiguration').nodeRegistration;
    assert.equal(arg(registration.kubeletExtraArgs, 'v'), '4');
    assert.equal(arg(registration.kubeletExtraArgs, 'node-ip'), server0.ip);
  });

  it('applies JSON 6902 patches to the document of that group, version and kind', () => {
    const facts = factsFor({
      kubeadmConfigPatchesJSON6902: [
        {
          group: 'kubeadm.k8s.io',
          version: 'v1beta4',
          kind: 'ClusterConfiguration',
          patch: '- op: add\n  path: /apiServer/certSANs/-\n  value: patched.example\n',
        },
      ],
    });
    assert.ok(byKind(initConfig(server0, facts), 'ClusterConfiguration').apiServer.certSANs.includes('patched.example'));
  });

  it('refuses, by field, a patch that changes no document or fails', () => {
    const check = (input: Omit<ClusterSpecInput, 'name'>) => checkKubeadmPatches(parseSpec({ flags: { name: 'dev', ...input } }), 'v1.37.2');
    assert.throws(
      () => check({ kubeadmConfigPatches: ['apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n'] }),
      /kubeadmConfigPatches\.0: changes no kubeadm document/,
    );
    assert.throws(
      () => check({ nodes: [{ role: 'worker', kubeadmConfigPatches: ['kind: InitConfiguration\n'] }] }),
      /nodes\.0\.kubeadmConfigPatches\.0: changes no kubeadm document/,
      'only the first server is initialised',
    );
    assert.throws(
      () =>
        check({
          kubeadmConfigPatchesJSON6902: [
            { group: 'kubeadm.k8s.io', version: 'v1beta4', kind: 'ClusterConfiguration', patch: '- op: remove\n  path: /nothing/here\n' },
          ],
        }),
      /kubeadmConfigPatchesJSON6902\.0\.patch:/,
    );
    assert.throws(() => check({ kubeadmConfigPatches: ['apiServer: {}\n'] }), /kubeadmConfigPatches\.0: a patch names the kind/);
    check({ kubeadmConfigPatches: ['kind: JoinConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    v: "2"\n'] });
  });
});

describe('containerd configuration from the spec', () => {
  it('merges TOML patches into the node image’s configuration, keeping what they do not name', () => {
    const merged = parseToml(patchedContainerdConfig(['[plugins."io.containerd.grpc.v1.cri"]\n  enable_unprivileged_ports = true\n'])) as Document;
    const cri = merged.plugins['io.containerd.grpc.v1.cri'];
    assert.equal(cri.enable_unprivileged_ports, true);
    assert.equal(cri.registry.config_path, '/etc/containerd/certs.d');
    assert.equal(cri.sandbox_image, 'registry.k8s.io/pause:3.10.1');
  });

  it('writes a hosts.toml per mirrored registry, its endpoints before the registry itself', () => {
    const [file] = containerdMirrorHostsFiles({ 'docker.io': ['http://kiab-dev-box:5000'] });
    assert.equal(file?.path, '/etc/containerd/certs.d/docker.io/hosts.toml');
    const hosts = parseToml(file!.content) as Document;
    assert.equal(hosts.server, 'https://registry-1.docker.io');
    assert.deepEqual(hosts.host['http://kiab-dev-box:5000'].capabilities, ['pull', 'resolve']);
  });
});

describe("a live node's labels and taints following the spec", () => {
  it('sets the wanted ones, removes those it set before, and leaves everything else alone', () => {
    const shaped = shapedNode(
      {
        labels: { 'kubernetes.io/hostname': 'w', tier: 'frontend', old: 'x', mine: 'by-hand' },
        annotations: { 'kiab.dev/labels': 'old,tier', 'kiab.dev/taints': 'gone:NoSchedule' },
        taints: [
          { key: 'gone', effect: 'NoSchedule' },
          { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
        ],
      },
      { labels: { tier: 'backend' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
    );
    assert.deepEqual(shaped.labels, { old: null, tier: 'backend' });
    assert.deepEqual(shaped.taints, [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
      { key: 'dedicated', value: 'db', effect: 'NoSchedule' },
    ]);
    assert.deepEqual(shaped.annotations, { 'kiab.dev/labels': 'tier', 'kiab.dev/taints': 'dedicated:NoSchedule' });
  });
});
