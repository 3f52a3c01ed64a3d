import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensurePreloadedImages, preloadedTag } from '../../src/cluster/lifecycle/preload.js';
import { CONTAINERD_VOLUME } from '../../src/cluster/lifecycle/topology.js';
import type { ImagePreload } from '../../src/distribution/index.js';
import { LABEL, type MachineRole } from '../../src/labels.js';
import { clusterNames } from '../../src/names.js';
import { NODE_IMAGE, engine, quiet } from '../fakes/cluster.js';
import type { FakeProvider } from '../fakes/provider.js';

const DIGEST = 'ab12cd34ef56ab12cd34ef56';
const names = clusterNames('dev');
const tagOf = (role: MachineRole): string => preloadedTag(NODE_IMAGE, role, `${DIGEST}-${role}`);

/** Loads one marker file per role into the machine's containerd volume, as an import would fill it. */
function markerPreload(provider: FakeProvider, loaded: MachineRole[]): ImagePreload {
  return {
    digest: (role) => `${DIGEST}-${role}`,
    load: async (_provider, machine, role) => {
      loaded.push(role);
      provider.volumes.get(`${machine}-${CONTAINERD_VOLUME.purpose}`)!.files.set(`images-of-${role}`, role);
      return [`example.org/${role}-b:1`, `example.org/${role}-a:1`];
    },
  };
}

function preloadOptions(provider: FakeProvider, preload: ImagePreload, roles: MachineRole[] = ['server', 'worker']) {
  return { provider, reporter: quiet, names, nodeImage: NODE_IMAGE, preload, roles };
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
    const images = await ensurePreloadedImages(preloadOptions(provider, markerPreload(provider, loaded)));
    assert.deepEqual(images, { server: tagOf('server'), worker: tagOf('worker') });
    assert.deepEqual(loaded.sort(), ['server', 'worker']);
    for (const role of ['server', 'worker'] as const) {
      const image = provider.images.find((candidate) => candidate.tags.includes(images[role]))!;
      assert.equal(image.files.get(`${CONTAINERD_VOLUME.path}/images-of-${role}`), role);
      assert.equal(image.labels[LABEL.recipe], images[role]);
      assert.equal(image.labels[LABEL.preloaded], `example.org/${role}-a:1 example.org/${role}-b:1`, 'what it holds, in order');
      // The machine is the cluster's while it lives (kiab delete finds it), and containerd stopped before its files were taken.
      const [created] = provider.callsOf('createContainer', names.preloader(role));
      assert.equal((created!.args[0] as { labels: Record<string, string> }).labels[LABEL.cluster], 'dev');
      const stopped = provider.calls.findIndex(
        (call) => call.method === 'exec' && call.name === names.preloader(role) && (call.args[0] as string[]).join(' ') === 'systemctl stop containerd.service',
      );
      const baked = provider.calls.findIndex((call) => call.method === 'bakeVolume' && call.args[2] === images[role]);
      assert.ok(stopped >= 0 && stopped < baked, `containerd of the ${role}s' machine was not stopped before its files were kept`);
    }
    assert.equal(provider.containers.size, 0);
    assert.equal(provider.volumes.size, 0);
  });

  it('preloads only the roles asked for, and nothing where their images exist', async () => {
    const provider = engine();
    const loaded: MachineRole[] = [];
    await ensurePreloadedImages(preloadOptions(provider, markerPreload(provider, loaded), ['server']));
    assert.deepEqual(loaded, ['server']);
    await ensurePreloadedImages(preloadOptions(provider, markerPreload(provider, loaded), ['server']));
    assert.deepEqual(loaded, ['server']);
    assert.equal(
      provider.images.some((image) => image.tags.includes(tagOf('worker'))),
      false,
    );
  });

  it('removes what a killed run left (a machine, a copy helper holding its volume) before anything else', async () => {
    const provider = engine();
    const volume = { name: `${names.preloader('worker')}-containerd`, path: CONTAINERD_VOLUME.path, labels: {} };
    const leftover = { hostname: 'x', image: NODE_IMAGE, kind: 'machine' as const, volumes: [volume], publish: [] };
    const preloadLabels = { [LABEL.managed]: 'test', [LABEL.cluster]: 'dev', [LABEL.role]: 'preload' };
    await provider.createContainer({ ...leftover, name: names.preloader('worker'), labels: preloadLabels });
    await provider.createContainer({ ...leftover, name: 'unnamed-helper', labels: preloadLabels });
    const loaded: MachineRole[] = [];
    await ensurePreloadedImages(preloadOptions(provider, markerPreload(provider, loaded), ['server']));
    assert.equal(provider.containers.size, 0);
    assert.equal(provider.volumes.size, 0);
  });

  it('removes what it made when the load fails, and keeps no image', async () => {
    const provider = engine();
    const failing: ImagePreload = {
      digest: (role) => `${DIGEST}-${role}`,
      load: async () => {
        throw new Error('import failed');
      },
    };
    await assert.rejects(ensurePreloadedImages(preloadOptions(provider, failing, ['worker'])), /import failed/);
    assert.equal(provider.containers.size, 0);
    assert.equal(provider.volumes.size, 0);
    assert.equal(
      provider.images.some((image) => image.tags.includes(tagOf('worker'))),
      false,
    );
  });
});
