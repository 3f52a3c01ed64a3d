import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { observeCluster } from '../../src/cluster/lifecycle/observe.js';
import { withResolvedVersion } from '../../src/cluster/lifecycle/existing.js';
import { deleteCluster } from '../../src/cluster/lifecycle/delete.js';
import { recordedVersion, recordVersion, withRecordedVersion } from '../../src/cluster/lifecycle/version-record.js';
import { kubeadmNodeImage, MACHINE_BINARIES } from '../../src/distribution/kubeadm/assets.js';
import { DEFAULT_KUBEADM_VERSION, KUBERNETES_RELEASES, resolveRelease } from '../../src/distribution/kubeadm/releases.js';
import { kubeadmUpgrade } from '../../src/distribution/kubeadm/upgrade.js';
import { UsageError } from '../../src/errors.js';
import { LABEL } from '../../src/labels.js';
import { clusterNames } from '../../src/names.js';
import { clusterSpecSchema } from '../../src/spec/schema.js';
import { engine, isolateFolders, specOf, upCluster } from '../fakes/cluster.js';

before(isolateFolders);

const refusal = async (work: () => unknown): Promise<UsageError> => {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
};

describe('the Kubernetes releases table', () => {
  it('is newest first, and the newest is the default', () => {
    const minors = KUBERNETES_RELEASES.map((release) => Number(release.version.split('.')[1]));
    assert.deepEqual(
      minors,
      [...minors].sort((a, b) => b - a),
    );
    assert.equal(DEFAULT_KUBEADM_VERSION, 'v1.37.2');
  });

  for (const release of KUBERNETES_RELEASES) {
    it(`${release.version}: names what its own kubeadm runs, and kubebuild pins the modules that build it`, async () => {
      const dir = join('kubebuild', 'releases', release.version);
      const images = Object.fromEntries(
        (await readFile(join(dir, 'kubeadm-images.txt'), 'utf8'))
          .trim()
          .split('\n')
          .map((line) => line.split(' ') as [string, string]),
      );
      assert.deepEqual({ etcd: release.etcd, coredns: release.coredns, pause: release.pause }, images);
      const requires = async (part: string, module: string): Promise<string | undefined> =>
        new RegExp(`^\\s*(?:require\\s+)?${module.replace(/\./g, '\\.')} (v\\S+)`, 'm').exec(await readFile(join(dir, part, 'go.mod'), 'utf8'))?.[1];
      assert.equal(await requires('kubernetes', 'k8s.io/kubernetes'), release.version);
      assert.equal(await requires('etcd', 'go.etcd.io/etcd/server/v3'), `v${release.etcd.replace(/-\d+$/, '')}`);
      assert.equal(await requires('coredns', 'github.com/coredns/coredns'), release.coredns);
      const testImages = (await readFile(join(dir, 'test-images.txt'), 'utf8')).trim().split('\n');
      assert.deepEqual([...release.testImages].sort(), testImages);
    });
  }
});

describe('a version as users write it', () => {
  it('is a release, or a minor meaning its newest patch, or nothing for the default', () => {
    assert.equal(resolveRelease(undefined).version, 'v1.37.2');
    assert.equal(resolveRelease('1.36').version, 'v1.36.3');
    assert.equal(resolveRelease('v1.35').version, 'v1.35.4');
    assert.equal(resolveRelease('1.34.4').version, 'v1.34.4');
  });

  it('is refused, listing the known releases, when kiab does not know it', async () => {
    for (const asked of ['1.33', 'v1.36.9', '1.38.0']) {
      const error = await refusal(() => resolveRelease(asked));
      assert.match(error.message, /^--k8s-version: kiab does not know Kubernetes .*; it knows v1\.37\.2, v1\.36\.3, v1\.35\.4, v1\.34\.4$/);
    }
    assert.match((await refusal(() => resolveRelease('latest'))).message, /^--k8s-version: "vlatest" is not a Kubernetes version/);
  });

  it('is resolved before a cluster is made, so the cluster records one release', () => {
    const spec = (version?: string) => clusterSpecSchema.parse({ name: 'v', ...(version ? { kubernetesVersion: version } : {}) });
    assert.equal(withResolvedVersion(spec()).kubernetesVersion, 'v1.37.2');
    assert.equal(withResolvedVersion(spec('1.36')).kubernetesVersion, 'v1.36.3');
    assert.equal(withResolvedVersion(clusterSpecSchema.parse({ name: 'v', distribution: 'none' })).kubernetesVersion, undefined);
  });
});

describe('an upgrade target', () => {
  it('is the next minor or a newer patch', async () => {
    // The assets check comes last: a target that passes the version rules but is not cached says how to get it.
    const missing = await kubeadmUpgrade.target('v1.36.3', '1.37').then(
      () => undefined,
      (error: Error) => error,
    );
    assert.ok(missing === undefined || /no kubeadm assets for Kubernetes v1\.37\.2/.test(missing.message), String(missing));
  });

  it('refuses going back and skipping a minor, naming the version in between', async () => {
    assert.match(
      (await refusal(() => kubeadmUpgrade.target('v1.37.2', '1.36'))).message,
      /^--k8s-version: the cluster runs v1\.37\.2, and upgrade does not go back to v1\.36\.3$/,
    );
    assert.match(
      (await refusal(() => kubeadmUpgrade.target('v1.35.4', '1.37'))).message,
      /^--k8s-version: Kubernetes upgrades one minor at a time; upgrade from v1\.35\.4 to v1\.36\.3 first, then to v1\.37\.2$/,
    );
    assert.match((await refusal(() => kubeadmUpgrade.target('v1.36.3', '1.40'))).message, /kiab does not know Kubernetes 1\.40/);
  });
});

describe('the version record', () => {
  it('says the version a cluster runs since an upgrade, is dropped when it goes back to what the cluster was made with, and goes with delete', async () => {
    const provider = engine();
    await upCluster(provider, 'rec');
    const names = clusterNames('rec');
    const madeWith = { ...specOf('rec'), kubernetesVersion: 'v1.36.3' };
    const records = async () => (await provider.listVolumes({ [LABEL.cluster]: 'rec' })).filter((volume) => volume.labels[LABEL.role] === 'record');

    await recordVersion(provider, names, madeWith, 'v1.37.2', true);
    await recordVersion(provider, names, madeWith, 'v1.37.2', true);
    assert.deepEqual(
      (await records()).map((volume) => volume.name),
      ['kiab-rec-runs-v1.37.2'],
    );
    assert.equal(recordedVersion(await records()), 'v1.37.2');
    const observed = await observeCluster(provider, 'rec');
    assert.equal(observed.spec?.kubernetesVersion, 'v1.37.2');
    assert.ok(!observed.volumes.some((volume) => volume.name.includes('-runs-')), 'a version record was taken for a machine volume');

    await recordVersion(provider, names, madeWith, 'v1.36.3', true);
    assert.deepEqual(await records(), []);

    await recordVersion(provider, names, madeWith, 'v1.37.2', true);
    await deleteCluster(provider, 'rec');
    assert.deepEqual(await records(), []);
  });

  it('after an upgrade, no node entry keeps a version of its own; a restore of machines that kept theirs records nothing', async () => {
    const provider = engine();
    await upCluster(provider, 'pin');
    const names = clusterNames('pin');
    const pinned = { role: 'worker' as const, labels: {}, taints: [], mounts: [], portMappings: [], kubeadmConfigPatches: [], kubernetesVersion: 'v1.36.3' };
    const madeWith = { ...specOf('pin'), kubernetesVersion: 'v1.37.2', workers: 1, nodes: [pinned] };
    const volumes = () => provider.listVolumes({ [LABEL.cluster]: 'pin' });

    // A restore at the version the cluster was made with, of machines that kept their own: nothing to record.
    await recordVersion(provider, names, madeWith, 'v1.37.2', false);
    assert.deepEqual(withRecordedVersion(madeWith, await volumes())?.nodes, [pinned]);
    // The upgrade to that same release brought the worker to it: recorded, and the entry's own version is gone.
    await recordVersion(provider, names, madeWith, 'v1.37.2', true);
    const { kubernetesVersion: _own, ...unpinned } = pinned;
    assert.deepEqual(withRecordedVersion(madeWith, await volumes())?.nodes, [unpinned]);
    assert.equal(withRecordedVersion(madeWith, await volumes())?.kubernetesVersion, 'v1.37.2');
    await deleteCluster(provider, 'pin');
  });

  it('takes the newest of two, as a crash between writing one and removing the other leaves them', () => {
    const record = (version: string, at: number) => ({
      name: version,
      labels: { [LABEL.role]: 'record', [LABEL.kubernetesVersion]: version, [LABEL.recordedAt]: String(at) },
    });
    assert.equal(recordedVersion([record('v1.36.3', 1), record('v1.37.2', 2)]), 'v1.37.2');
    assert.equal(recordedVersion([record('v1.37.2', 2), record('v1.36.3', 1)]), 'v1.37.2');
  });
});

describe("a release's node image", () => {
  it("names that release's pause image as containerd's sandbox, so pods start with nothing pulled", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiab-node-image-'));
    await mkdir(join(dir, 'bin'));
    for (const binary of MACHINE_BINARIES) await writeFile(join(dir, 'bin', binary), binary);
    const plan = (pause: string) =>
      kubeadmNodeImage('v1.37.2', 'kiab/node:x', dir, {
        distribution: 'kubeadm',
        version: 'v1.37.2',
        arch: 'amd64',
        source: 'build',
        createdAt: '',
        images: { 'images/pause.tar': pause },
        files: {},
      });
    const recipe = (await plan('registry.k8s.io/pause:3.10.2').files()).find((file) => file.path === 'Dockerfile')?.content;
    assert.match(String(recipe), /sed -i 's#\^\\\( \*sandbox_image = \\\)\.\*#\\1"registry\.k8s\.io\/pause:3\.10\.2"#' \/etc\/containerd\/config\.toml/);
    assert.notEqual(plan('registry.k8s.io/pause:3.10.2').tag, plan('registry.k8s.io/pause:3.10.1').tag);
    assert.throws(() => plan('registry.k8s.io/coredns/coredns:v1.14.6'), /hold no pause image/);
  });
});
