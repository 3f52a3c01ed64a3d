import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withResolvedVersion } from '../../src/cluster/lifecycle/existing.js';
import { machineRelease, otherNodeReleases } from '../../src/distribution/kubeadm/node-versions.js';
import { UsageError } from '../../src/errors.js';
import { clusterSpecSchema } from '../../src/spec/schema.js';

/** A spec as up sees it: parsed, then each version resolved to a release. */
const spec = (kubernetesVersion: string, nodes: Array<{ role: 'server' | 'worker'; kubernetesVersion?: string }>) =>
  withResolvedVersion(clusterSpecSchema.parse({ name: 'skew', kubernetesVersion, workers: 2, nodes }));

const refusal = (field: string, words: RegExp) => (error: unknown) =>
  error instanceof UsageError && error.message.startsWith(`${field}: `) && words.test(error.message);

describe("a node entry's own Kubernetes version", () => {
  it('resolves a minor to its newest known release, and gives the machines their releases', () => {
    const skewed = spec('1.37', [{ role: 'server' }, { role: 'worker', kubernetesVersion: '1.34' }]);
    assert.equal(skewed.nodes[1]!.kubernetesVersion, 'v1.34.4');
    assert.deepEqual(otherNodeReleases(skewed), ['v1.34.4']);
    const machine = (role: 'server' | 'worker', index: number) => ({ name: `${role}-${index}`, role, index, ip: '10.0.0.1' });
    assert.deepEqual(
      [machineRelease(skewed, machine('server', 0)), machineRelease(skewed, machine('worker', 0)), machineRelease(skewed, machine('worker', 1))],
      ['v1.37.2', 'v1.34.4', 'v1.37.2'],
    );
  });

  it("the cluster's own release on a node is no other release", () => {
    assert.deepEqual(
      otherNodeReleases(
        spec('1.36', [
          { role: 'server', kubernetesVersion: '1.36' },
          { role: 'worker', kubernetesVersion: 'v1.36.3' },
        ]),
      ),
      [],
    );
  });

  it('refuses by its field: an unknown release, a server of another release, a worker newer than the cluster', () => {
    assert.throws(() => spec('1.37', [{ role: 'worker', kubernetesVersion: '1.20' }]), refusal('nodes.0.kubernetesVersion', /does not know Kubernetes 1\.20/));
    assert.throws(
      () => otherNodeReleases(spec('1.37', [{ role: 'worker' }, { role: 'server', kubernetesVersion: '1.36' }])),
      refusal('nodes.1.kubernetesVersion', /a server runs the control plane/),
    );
    assert.throws(
      () => otherNodeReleases(spec('1.36', [{ role: 'worker', kubernetesVersion: '1.37' }])),
      refusal('nodes.0.kubernetesVersion', /newer than the cluster's v1\.36\.3/),
    );
    assert.throws(
      () => clusterSpecSchema.parse({ name: 'skew', nodes: [{ role: 'worker', kubernetesVersion: 'latest' }] }),
      /must be a Kubernetes version such as 1\.36/,
    );
  });
});
