import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, kiab, labelledObjects, run } from './helpers.js';
import { KUBEADM_KUBECTL, kubeadmSkip } from './kubeadm-cache.js';

const CLUSTER = 'e2e-kubeadm-ha';
const server = (index: number): string => `kiab-${CLUSTER}-server-${index}`;

if (kubeadmSkip) it('an HA control plane with kubeadm', { skip: kubeadmSkip }, () => undefined);
else
  describe('an HA control plane with kubeadm', () => {
    let env: NodeJS.ProcessEnv;

    const kubectl = async (...args: string[]): Promise<string> => {
      const result = await run(KUBEADM_KUBECTL, args, { env });
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
      return result.stdout.trim();
    };
    const kiabEnv = (args: string[]) => kiab(args, { env });

    /** etcd's own member list, asked on a server with the API server's etcd client certificate. */
    const etcdMembers = async (via = server(0)): Promise<string[]> => {
      const pki = '/etc/kubernetes/pki';
      const body = await docker([
        'exec',
        via,
        'curl',
        '-sf',
        '--cacert',
        `${pki}/etcd/ca.crt`,
        '--cert',
        `${pki}/apiserver-etcd-client.crt`,
        '--key',
        `${pki}/apiserver-etcd-client.key`,
        '-X',
        'POST',
        '-d',
        '{}',
        'https://127.0.0.1:2379/v3/cluster/member/list',
      ]);
      return (JSON.parse(body) as { members: Array<{ name: string }> }).members.map((member) => member.name).sort();
    };
    const readyControlPlanes = async (): Promise<string[]> => {
      const nodes = JSON.parse(await kubectl('get', 'nodes', '-l', 'node-role.kubernetes.io/control-plane', '-o', 'json')) as {
        items: Array<{ metadata: { name: string }; status: { conditions: Array<{ type: string; status: string }> } }>;
      };
      return nodes.items
        .filter((node) => node.status.conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True'))
        .map((node) => node.metadata.name)
        .sort();
    };

    before(async () => {
      env = { ...process.env, KUBECONFIG: join(await mkdtemp(join(tmpdir(), 'kiab-kubeadm-ha-')), 'config') };
      await kiabEnv(['delete', CLUSTER]);
      const up = await kiabEnv(['up', CLUSTER, '--k8s', 'kubeadm', '--servers', '3', '--workers', '0', '--no-snapshot', '--wait', '8m']);
      assert.equal(up.code, 0, up.stderr);
    });

    after(async () => {
      await kiabEnv(['delete', CLUSTER]);
    });

    it('has three Ready control-plane nodes and three etcd members', async () => {
      assert.deepEqual(await readyControlPlanes(), [server(0), server(1), server(2)]);
      assert.deepEqual(await etcdMembers(), [server(0), server(1), server(2)]);
    });

    it('node rm of a server removes its etcd member and its node, and the other two stay Ready', async () => {
      const removed = await kiabEnv(['node', 'rm', server(2)]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.deepEqual(await etcdMembers(), [server(0), server(1)]);
      assert.deepEqual(await readyControlPlanes(), [server(0), server(1)]);
      assert.ok(!(await labelledObjects(CLUSTER)).containers.includes(server(2)));
    });

    it('node add --role server joins a new control-plane member', async () => {
      const added = await kiabEnv(['node', 'add', '--cluster', CLUSTER, '--role', 'server']);
      assert.equal(added.code, 0, added.stderr);
      assert.deepEqual(await etcdMembers(), [server(0), server(1), server(2)]);
      assert.deepEqual(await readyControlPlanes(), [server(0), server(1), server(2)]);
    });

    it('node rm of the first server hands its role over, and up makes it again as a joining member, not a second control plane', async () => {
      const ca = (node: string) => docker(['exec', node, 'cat', '/etc/kubernetes/pki/ca.crt']);
      const clusterCa = await ca(server(1));
      const removed = await kiabEnv(['node', 'rm', server(0)]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.deepEqual(await etcdMembers(server(1)), [server(1), server(2)]);
      // kubectl reaches the API through the published port and the box, which now forwards to server-1.
      assert.deepEqual(await readyControlPlanes(), [server(1), server(2)]);

      const converged = await kiabEnv(['up', CLUSTER, '--k8s', 'kubeadm', '--servers', '3', '--workers', '0', '--no-snapshot', '--wait', '8m']);
      assert.equal(converged.code, 0, converged.stderr);
      assert.deepEqual(await etcdMembers(server(1)), [server(0), server(1), server(2)]);
      assert.deepEqual(await readyControlPlanes(), [server(0), server(1), server(2)]);
      assert.equal(await ca(server(0)), clusterCa, 'server-0 joined the cluster instead of initialising its own');
    });
  });
