// test-lane: cluster — it brings up a Kubernetes cluster: see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kiab, run, tempDir } from './helpers.js';
import { AGNHOST, AGNHOST_ARCHIVE, agnhostSkip, KUBEADM_KUBECTL as KUBECTL } from './kubeadm-cache.js';

/** On an engine others test on too, KIAB_E2E_PREFIX keeps this suite's clusters apart from theirs (e.g. `me-`). */
const PREFIX = process.env.KIAB_E2E_PREFIX ?? '';
const CLUSTER = `${PREFIX}e2e-netpol`;
const node = (role: string, index: number): string => `kiab-${CLUSTER}-${role}-${index}`;

const skip = agnhostSkip;

interface Pod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  on: string;
  args: string[];
}

function podObject(pod: Pod): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels },
    spec: {
      nodeName: pod.on,
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'agnhost',
          image: AGNHOST,
          imagePullPolicy: 'Never',
          args: pod.args,
          ports: pod.args[0] === 'netexec' ? [{ name: 'http', containerPort: 8080 }] : [],
        },
      ],
    },
  };
}

const SERVE = ['netexec', '--http-port=8080'];
const IDLE = ['pause'];

if (skip) it('NetworkPolicy is enforced by the default pod network', { skip }, () => undefined);
else
  describe('NetworkPolicy is enforced by the default pod network (kube-network-policies)', () => {
    let kubeconfig: string;
    let env: NodeJS.ProcessEnv;
    const ips: Record<string, string> = {};

    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const result = await run(KUBECTL, ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
      return result.stdout.trim();
    };
    const apply = (...objects: object[]): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

    /** Whether a TCP connection from a pod to a pod's address:port opens within 2 s (agnhost connect exits 0 only then). */
    const connects = async (from: string, namespace: string, to: string, port = 8080): Promise<boolean> => {
      const result = await run(KUBECTL, [
        '--kubeconfig',
        kubeconfig,
        '-n',
        namespace,
        'exec',
        from,
        '--',
        '/agnhost',
        'connect',
        '--timeout=2s',
        `${ips[to]}:${port}`,
      ]);
      if (result.code !== 0 && !/TIMEOUT|REFUSED|UNKNOWN|OTHER/.test(result.stdout + result.stderr))
        throw new Error(`kubectl exec ${from}: ${result.stderr.trim()}`);
      return result.code === 0;
    };
    /** Whether a pod gets an answer from the cluster DNS within 2 s. */
    const resolves = async (from: string, namespace: string): Promise<boolean> => {
      const result = await run(KUBECTL, [
        '--kubeconfig',
        kubeconfig,
        '-n',
        namespace,
        'exec',
        from,
        '--',
        'dig',
        '+time=2',
        '+tries=1',
        '+short',
        'kubernetes.default.svc.cluster.local',
      ]);
      return result.code === 0 && /^10\.96\.0\.1$/m.test(result.stdout);
    };
    /** Polls until `check` gives `want` (policies take effect as the controllers see them); returns how long it took. */
    const until = async (what: string, check: () => Promise<boolean>, want: boolean, timeoutMs = 20_000): Promise<number> => {
      const started = Date.now();
      for (;;) {
        if ((await check()) === want) return Date.now() - started;
        if (Date.now() - started > timeoutMs) assert.fail(`${what}: still ${!want} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };

    before(async () => {
      kubeconfig = join(await tempDir('kiab-netpol-'), 'config');
      env = { ...process.env, KUBECONFIG: kubeconfig };
      await kiab(['delete', CLUSTER], { env });
      // The policy controller is part of the pod network: a cluster without the addons enforces policies too.
      const up = await kiab(['up', CLUSTER, '--workers', '2', '--no-addons', '--no-snapshot', '--wait', '8m'], { env });
      assert.equal(up.code, 0, up.stderr);
      const load = await kiab(['image', 'load', '--cluster', CLUSTER, '--archive', AGNHOST_ARCHIVE]);
      assert.equal(load.code, 0, load.stderr);
      await apply(
        ...['np-a', 'np-b'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { team: name } } })),
        // The server on one worker, its clients on the other: every check crosses machines.
        ...(
          [
            { name: 'server', namespace: 'np-a', labels: { app: 'server' }, on: node('worker', 0), args: SERVE },
            { name: 'client', namespace: 'np-a', labels: { role: 'client' }, on: node('worker', 1), args: IDLE },
            { name: 'stranger', namespace: 'np-a', labels: { role: 'stranger' }, on: node('worker', 1), args: IDLE },
            { name: 'client', namespace: 'np-b', labels: { role: 'client' }, on: node('worker', 1), args: IDLE },
            { name: 'walled', namespace: 'np-b', labels: { role: 'walled' }, on: node('worker', 0), args: IDLE },
            { name: 'echo-1', namespace: 'np-b', labels: { app: 'echo' }, on: node('worker', 1), args: SERVE },
            { name: 'echo-2', namespace: 'np-b', labels: { app: 'echo' }, on: node('worker', 1), args: SERVE },
          ] as Pod[]
        ).map(podObject),
      );
      for (const namespace of ['np-a', 'np-b']) await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=180s']);
      for (const [namespace, name] of [
        ['np-a', 'server'],
        ['np-b', 'echo-1'],
        ['np-b', 'echo-2'],
      ] as const)
        ips[name] = await kubectl(['-n', namespace, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}']);
    });

    after(async () => {
      await kiab(['delete', CLUSTER], { env });
    });

    it('runs the policy controller on every node', async () => {
      const ready = await kubectl(['-n', 'kube-system', 'get', 'daemonset', 'kube-network-policies', '-o', 'jsonpath={.status.numberReady}']);
      assert.equal(ready, '3');
    });

    it('lets everything through while no policy selects a pod', async () => {
      assert.equal(await connects('client', 'np-a', 'server'), true);
      assert.equal(await connects('stranger', 'np-a', 'server'), true);
      assert.equal(await connects('client', 'np-b', 'server'), true);
      assert.equal(await connects('walled', 'np-b', 'echo-2'), true);
      assert.equal(await resolves('walled', 'np-b'), true);
    });

    it('blocks every client once a default-deny ingress policy selects the server', async () => {
      await apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'deny-ingress', namespace: 'np-a' },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      });
      await until('client np-a/client → server', () => connects('client', 'np-a', 'server'), false);
      assert.equal(await connects('stranger', 'np-a', 'server'), false);
      assert.equal(await connects('client', 'np-b', 'server'), false);
    });

    it('lets in exactly the pods an allow rule names by label, on the named port', async () => {
      await apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-clients', namespace: 'np-a' },
        spec: {
          podSelector: { matchLabels: { app: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }],
        },
      });
      await until('client np-a/client → server', () => connects('client', 'np-a', 'server'), true);
      // Same label, other namespace: a bare podSelector means the policy's own namespace.
      assert.equal(await connects('client', 'np-b', 'server'), false);
      assert.equal(await connects('stranger', 'np-a', 'server'), false);
    });

    it('lets in a namespace named by its labels, on a port range', async () => {
      await apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-team-b', namespace: 'np-a' },
        spec: {
          podSelector: { matchLabels: { app: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'np-b' } } }], ports: [{ protocol: 'TCP', port: 8000, endPort: 8100 }] }],
        },
      });
      await until('client np-b/client → server', () => connects('client', 'np-b', 'server'), true);
      assert.equal(await connects('stranger', 'np-a', 'server'), false);
      await kubectl(['-n', 'np-a', 'delete', 'networkpolicy', 'allow-team-b']);
      await until('client np-b/client → server after allow-team-b went', () => connects('client', 'np-b', 'server'), false);
    });

    it('denies egress, DNS included, except to the one address an ipBlock names', async () => {
      await apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'wall', namespace: 'np-b' },
        spec: {
          podSelector: { matchLabels: { role: 'walled' } },
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: `${ips['echo-1']}/32` } }] }],
        },
      });
      await until('walled → echo-2', () => connects('walled', 'np-b', 'echo-2'), false);
      assert.equal(await resolves('walled', 'np-b'), false);
      assert.equal(await connects('walled', 'np-b', 'echo-1'), true);
    });

    it('stops blocking within 5 s of a policy being removed', async (t) => {
      await kubectl(['-n', 'np-a', 'delete', 'networkpolicy', 'deny-ingress', 'allow-clients']);
      const took = await until('stranger → server after the policies went', () => connects('stranger', 'np-a', 'server'), true, 5_000);
      t.diagnostic(`ingress open again ${took} ms after kubectl delete returned`);
      await kubectl(['-n', 'np-b', 'delete', 'networkpolicy', 'wall']);
      const egress = await until('walled → echo-2 after the policy went', () => connects('walled', 'np-b', 'echo-2'), true, 5_000);
      t.diagnostic(`egress open again ${egress} ms after kubectl delete returned`);
      assert.equal(await resolves('walled', 'np-b'), true);
    });

    const ANP = { apiVersion: 'policy.networking.k8s.io/v1alpha1' };

    /** How the pod network reaches the controller on this kernel: `nftables` (its queue statement) or `xtables` (kiab's fallback). */
    const policyQueue = async (): Promise<string> => (await run('docker', ['exec', node('server', 0), 'cat', '/run/kiab/policy-queue'])).stdout.trim();
    const NO_NFT_QUEUE = "this kernel lacks nftables' queue statement (CONFIG_NFT_QUEUE), which AdminNetworkPolicy's support needs: kiab leaves it off";

    it("leaves AdminNetworkPolicy off where the kernel lacks nftables' queue: the API refuses one instead of the controller ignoring it", async (t) => {
      if ((await policyQueue()) !== 'xtables') return t.skip("this kernel has nftables' queue statement: AdminNetworkPolicy is on");
      const refused = await run(KUBECTL, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {
        input: JSON.stringify({
          ...ANP,
          kind: 'AdminNetworkPolicy',
          metadata: { name: 'refused' },
          spec: { priority: 1, subject: { namespaces: {} }, ingress: [] },
        }),
      });
      assert.notEqual(refused.code, 0, refused.stdout);
      assert.match(refused.stderr, /no matches for kind "AdminNetworkPolicy"/);
      const args = await kubectl(['-n', 'kube-system', 'get', 'daemonset', 'kube-network-policies', '-o', 'jsonpath={.spec.template.spec.containers[0].args}']);
      assert.doesNotMatch(args, /--admin-network-policy/);
      assert.match(args, /--baseline-admin-network-policy/);
    });

    it("denies with an AdminNetworkPolicy what a namespace's NetworkPolicy allows, until it is removed", async (t) => {
      if ((await policyQueue()) !== 'nftables') return t.skip(NO_NFT_QUEUE);
      await apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-clients', namespace: 'np-a' },
        spec: {
          podSelector: { matchLabels: { app: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }],
        },
      });
      await until('client np-a/client → server under allow-clients', () => connects('client', 'np-a', 'server'), true);
      await apply({
        ...ANP,
        kind: 'AdminNetworkPolicy',
        metadata: { name: 'wall-off-np-a' },
        spec: {
          priority: 10,
          subject: { pods: { namespaceSelector: { matchLabels: { team: 'np-a' } }, podSelector: { matchLabels: { app: 'server' } } } },
          ingress: [{ name: 'from-np-a', action: 'Deny', from: [{ namespaces: { matchLabels: { team: 'np-a' } } }] }],
        },
      });
      await until('client np-a/client → server under the AdminNetworkPolicy', () => connects('client', 'np-a', 'server'), false);
      await kubectl(['delete', 'adminnetworkpolicy', 'wall-off-np-a']);
      await until('client np-a/client → server once the AdminNetworkPolicy went', () => connects('client', 'np-a', 'server'), true);
      await kubectl(['-n', 'np-a', 'delete', 'networkpolicy', 'allow-clients']);
    });

    it("denies with a BaselineAdminNetworkPolicy where no NetworkPolicy speaks, and a namespace's NetworkPolicy overrides it", async () => {
      await apply({
        ...ANP,
        kind: 'BaselineAdminNetworkPolicy',
        metadata: { name: 'default' },
        spec: {
          subject: { namespaces: { matchLabels: { team: 'np-b' } } },
          ingress: [{ name: 'from-anywhere', action: 'Deny', from: [{ namespaces: {} }] }],
        },
      });
      await until('walled → echo-2 under the baseline', () => connects('walled', 'np-b', 'echo-2'), false);
      await apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-walled', namespace: 'np-b' },
        spec: {
          podSelector: { matchLabels: { app: 'echo' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { role: 'walled' } } }] }],
        },
      });
      await until('walled → echo-2 under allow-walled, over the baseline', () => connects('walled', 'np-b', 'echo-2'), true);
      // The namespace's policy selects echo-2 now: what it does not allow stays denied, whatever the baseline says.
      assert.equal(await connects('client', 'np-b', 'echo-2'), false);
      await kubectl(['-n', 'np-b', 'delete', 'networkpolicy', 'allow-walled']);
      await kubectl(['delete', 'baselineadminnetworkpolicy', 'default']);
      await until('client np-b/client → echo-2 with no policy left', () => connects('client', 'np-b', 'echo-2'), true);
    });
  });
