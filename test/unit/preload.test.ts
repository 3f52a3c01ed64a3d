import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensurePreloadedImages, preloadedTag } from '../../src/cluster/preload.js';
import type { ImagePreload } from '../../src/distribution/index.js';
import { LABEL, type MachineRole } from '../../src/labels.js';
import { clusterNames } from '../../src/names.js';
import { CONTAINERD_VOLUME } from '../../src/cluster/topology.js';
import { NODE_IMAGE, engine, quiet } from '../fakes/cluster.js';
import type { FakeProvider } from '../fakes/provider.js';

const DIGEST = 'ab12cd34ef56ab12cd34ef56';

/** Loads one marker file per role into the machine's containerd volume, as an import would fill it. */
function markerPreload(provider: FakeProvider, loaded: MachineRole[]): ImagePreload {
  return {
    digest: DIGEST,
    load: async (_provider, machine, role) => {
      loaded.push(role);
      provider.volumes.get(`${machine}-${CONTAINERD_VOLUME.purpose}`)!.files.set(`images-of-${role}`, role);
    },
  };
}

describe('preloadedTag', () => {
  for (const [image, role, prefix] of [
    ['kiab/node-kubeadm:v1.34.4-784c5b43458b', 'server', 'kiab/node-kubeadm:v1.34.4-784c5b43458b-server-'],
    ['kiab/node-kubeadm:v1.34.4-784c5b43458b', 'worker', 'kiab/node-kubeadm:v1.34.4-784c5b43458b-worker-'],
    ['registry.local:5000/node', 'server', 'registry.local:5000/node:latest-server-'],
  ] as const) {
    it(`${image} for ${role}s starts ${prefix}`, () =>
      assert.match(preloadedTag(image, role, DIGEST), new RegExp(`^${prefix.replaceAll('.', '\\.')}[0-9a-f]{12}$`)));
  }

  it('changes with what was loaded', () => {
    assert.notEqual(preloadedTag('kiab/node:v1', 'server', DIGEST), preloadedTag('kiab/node:v1', 'server', `${DIGEST}0`));
  });
});

describe('ensurePreloadedImages', () => {
  it("keeps each role's loaded containerd files in an image of its own, and leaves no machine or volume behind", async () => {
    const provider = engine();
    const loaded: MachineRole[] = [];
    const images = await ensurePreloadedImages({
      provider,
      reporter: quiet,
      names: clusterNames('dev'),
      nodeImage: NODE_IMAGE,
      preload: markerPreload(provider, loaded),
    });
    assert.deepEqual(images, { server: preloadedTag(NODE_IMAGE, 'server', DIGEST), worker: preloadedTag(NODE_IMAGE, 'worker', DIGEST) });
    assert.deepEqual(loaded.sort(), ['server', 'worker']);
    for (const role of ['server', 'worker'] as const) {
      const image = provider.images.find((candidate) => candidate.tags.includes(images[role]))!;
      assert.equal(image.files.get(`${CONTAINERD_VOLUME.path}/images-of-${role}`), role);
      assert.equal(image.labels[LABEL.recipe], images[role]);
    }
    // containerd was stopped before its files were taken.
    for (const role of ['server', 'worker'] as const) {
      const commands = provider.callsOf('exec', `kiab-dev-preload-${role}`).map((call) => (call.args[0] as string[]).join(' '));
      assert.equal(commands.at(-1), 'systemctl stop containerd.service');
    }
    assert.equal(provider.containers.size, 0);
    assert.equal(provider.volumes.size, 0);
  });

  it('makes nothing when both images exist', async () => {
    const provider = engine();
    for (const role of ['server', 'worker'] as const) provider.addImage(preloadedTag(NODE_IMAGE, role, DIGEST));
    const loaded: MachineRole[] = [];
    await ensurePreloadedImages({ provider, reporter: quiet, names: clusterNames('dev'), nodeImage: NODE_IMAGE, preload: markerPreload(provider, loaded) });
    assert.deepEqual(loaded, []);
    assert.equal(provider.callsOf('createContainer').length, 0);
  });

  it('removes what an interrupted run left before it starts, and what it made when the load fails', async () => {
    const provider = engine();
    const names = clusterNames('dev');
    await provider.createContainer({
      name: names.preloader('worker'),
      hostname: names.preloader('worker'),
      image: NODE_IMAGE,
      kind: 'machine',
      labels: {},
      volumes: [{ name: `${names.preloader('worker')}-containerd`, path: CONTAINERD_VOLUME.path, labels: {} }],
      publish: [],
    });
    provider.addImage(preloadedTag(NODE_IMAGE, 'server', DIGEST));
    const failing: ImagePreload = {
      digest: DIGEST,
      load: async () => {
        throw new Error('import failed');
      },
    };
    await assert.rejects(ensurePreloadedImages({ provider, reporter: quiet, names, nodeImage: NODE_IMAGE, preload: failing }), /import failed/);
    assert.equal(provider.containers.size, 0);
    assert.equal(provider.volumes.size, 0);
    assert.equal(
      provider.images.some((image) => image.tags.includes(preloadedTag(NODE_IMAGE, 'worker', DIGEST))),
      false,
    );
  });
});
