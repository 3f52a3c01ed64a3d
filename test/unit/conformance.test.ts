import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { specProgress, summarisePass } from '../../src/cluster/conformance/conformance-report.js';
import { archiveName, testImagesFor } from '../../src/distribution/kubeadm/conformance-images.js';
import { KUBERNETES_RELEASES } from '../../src/distribution/kubeadm/releases.js';
import { KiabError } from '../../src/errors.js';

const spec = (text: string, state: string, failure?: string, type = 'It') => ({
  ContainerHierarchyTexts: ['[sig-node] Pods'],
  LeafNodeText: text,
  LeafNodeType: type,
  State: state,
  ...(failure ? { Failure: { Message: failure, Location: { FileName: 'test/e2e/common/node/pods.go', LineNumber: 42 } } } : {}),
});

describe('conformance report', () => {
  it('counts passed and failed specs, and only self-skipped ones as skipped', () => {
    const result = summarisePass([
      {
        SpecReports: [
          spec('runs [Conformance]', 'passed'),
          spec('fails [Conformance]', 'failed', 'expected 1, got 2\nmore'),
          spec('left out by the focus', 'skipped'),
          spec('needs a cloud [Conformance]', 'skipped', 'Only supported for providers [gce]'),
          spec('', 'passed', undefined, 'SynchronizedBeforeSuite'),
        ],
      },
    ]);
    assert.deepEqual([result.passed, result.failed, result.skipped], [1, 1, 1]);
    assert.deepEqual(result.failures, [
      { spec: '[sig-node] Pods fails [Conformance]', state: 'failed', message: 'expected 1, got 2\nmore', location: 'test/e2e/common/node/pods.go:42' },
    ]);
  });

  it('reports a suite node that failed or timed out as a failure named by its type', () => {
    const result = summarisePass([{ SpecReports: [{ LeafNodeType: 'SynchronizedBeforeSuite', State: 'timedout', Failure: { Message: 'suite timeout' } }] }]);
    assert.equal(result.failed, 1);
    assert.equal(result.failures[0]?.spec, '[SynchronizedBeforeSuite]');
    assert.equal(result.failures[0]?.state, 'timedout');
  });

  it('makes one progress line of each spec ginkgo finishes', () => {
    const finished = specProgress();
    const lines = [
      'STEP: Creating a pod',
      '• [3.201 seconds]',
      '[sig-node] Pods should be submitted and removed [NodeConformance] [Conformance] [Conformance, NodeConformance]',
      'test/e2e/common/node/pods.go:227',
      '• [FAILED] [12.000 seconds]',
      '[sig-network] DNS should provide DNS for the cluster [Conformance]',
      // A serial spec: named when it starts, its header after its timeline.
      '------------------------------',
      '[sig-apps] Daemon set [Serial] should rollback without unnecessary restarts [Conformance]',
      'test/e2e/apps/daemon_set.go:432',
      'STEP: Creating a DaemonSet',
      '• [13.100 seconds]',
      '------------------------------',
    ];
    assert.deepEqual(lines.map(finished).filter(Boolean), [
      'passed [sig-node] Pods should be submitted and removed [NodeConformance] [Conformance] [Conformance, NodeConformance] (3.2s)',
      'failed [sig-network] DNS should provide DNS for the cluster [Conformance] (12.0s)',
      'passed [sig-apps] Daemon set [Serial] should rollback without unnecessary restarts [Conformance] (13.1s)',
    ]);
  });
});

describe('conformance test images', () => {
  for (const release of KUBERNETES_RELEASES) {
    it(`${release.version}: are made under the tags its suite asks for, each after the image it builds on`, () => {
      const images = testImagesFor(release);
      const seen = new Set<string>();
      for (const image of images) {
        assert.ok(image.from === 'base' || seen.has(image.from), `${image.ref} builds on ${image.from}, which comes later`);
        seen.add(image.ref);
      }
      const saved = images.filter((image) => image.saved);
      assert.deepEqual(saved.map((image) => image.ref).sort(), [...release.testImages].sort());
      assert.equal(new Set(saved.map((image) => archiveName(image.ref))).size, saved.length);
    });
  }

  it("builds on the base its release names: nautilus on that release's agnhost", () => {
    const images = testImagesFor({
      version: 'v1.37.2',
      testImages: ['registry.k8s.io/e2e-test-images/nautilus:1.8', 'registry.k8s.io/e2e-test-images/agnhost:2.66.1'],
    });
    assert.deepEqual(images.map((image) => [image.ref, image.from]).slice(1), [
      ['registry.k8s.io/e2e-test-images/agnhost:2.66.1', images[0]!.ref],
      ['registry.k8s.io/e2e-test-images/nautilus:1.8', 'registry.k8s.io/e2e-test-images/agnhost:2.66.1'],
    ]);
  });

  it('refuses an image kiab has no recipe for, or one whose base the list lacks', () => {
    assert.throws(() => testImagesFor({ version: 'v9', testImages: ['registry.k8s.io/e2e-test-images/kitten:1.8'] }), KiabError);
    assert.throws(() => testImagesFor({ version: 'v9', testImages: ['registry.k8s.io/e2e-test-images/nautilus:1.8'] }), /build on agnhost/);
  });

  it('keep the upstream names in their archive names', () => {
    assert.equal(archiveName('registry.k8s.io/e2e-test-images/agnhost:2.56'), 'images/agnhost-2.56.tar');
  });
});
