import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from '../../src/provider/types.js';
import { FakeProvider, matchesLabels } from '../fakes/provider.js';

/* The Docker behaviours the orchestration tests lean on, pinned so the fake cannot drift into leniency. */

function machine(name: string, ip: string): ContainerSpec {
  return {
    name,
    hostname: name,
    image: 'node',
    labels: { app: name },
    network: { name: 'net', ip },
    kind: 'machine',
    volumes: [{ name: `${name}-data`, path: '/data', labels: { owner: name } }],
    publish: [],
  };
}

async function engineWithNetwork(): Promise<FakeProvider> {
  const provider = new FakeProvider({ images: ['node'] });
  await provider.createNetwork({ name: 'net', subnet: '10.9.0.0/24', gateway: '10.9.0.1', labels: {} });
  return provider;
}

describe('fake provider', () => {
  it('filters labels as Docker does: an empty value asks only for the key', () => {
    assert.equal(matchesLabels({ a: '1', b: '' }, { a: '', b: '' }), true);
    assert.equal(matchesLabels({ a: '1' }, { a: '2' }), false);
    assert.equal(matchesLabels({ a: '1' }, { c: '' }), false);
  });

  it('refuses a taken name, a missing image and an overlapping subnet', async () => {
    const provider = await engineWithNetwork();
    await provider.createContainer(machine('m1', '10.9.0.10'));
    await assert.rejects(provider.createContainer(machine('m1', '10.9.0.11')), /exists already/);
    await assert.rejects(provider.createContainer({ ...machine('m2', '10.9.0.12'), image: 'absent' }), /No such image/);
    await assert.rejects(provider.createNetwork({ name: 'net2', subnet: '10.9.0.0/24', gateway: '10.9.0.1', labels: {} }), /overlaps/);
  });

  it('makes volumes on demand with their labels, and keeps a volume in use', async () => {
    const provider = await engineWithNetwork();
    await provider.createContainer(machine('m1', '10.9.0.10'));
    assert.deepEqual(await provider.listVolumes({ owner: 'm1' }), [{ name: 'm1-data', labels: { owner: 'm1' } }]);
    await assert.rejects(provider.removeVolume('m1-data'), /in use/);
    await provider.removeContainer('m1');
    await provider.removeVolume('m1-data');
    assert.equal(provider.volumes.size, 0);
  });

  it('cannot start a paused container, and exec needs a running one', async () => {
    const provider = await engineWithNetwork();
    await provider.createContainer(machine('m1', '10.9.0.10'));
    await assert.rejects(provider.exec('m1', ['true']), /not running/);
    await provider.startContainer('m1');
    assert.equal((await provider.exec('m1', ['systemctl', 'is-system-running'])).stdout, 'running\n');
    await provider.pauseContainer('m1');
    await assert.rejects(provider.startContainer('m1'), /paused/);
  });

  it('fails a scripted call once, and records every call in order', async () => {
    const provider = await engineWithNetwork();
    provider.failNext('createContainer', 'm2');
    await provider.createContainer(machine('m1', '10.9.0.10'));
    await assert.rejects(provider.createContainer(machine('m2', '10.9.0.11')), /injected failure/);
    await provider.createContainer(machine('m2', '10.9.0.11'));
    assert.deepEqual(
      provider.calls.map((call) => `${call.method} ${call.name}`),
      ['createNetwork net', 'createContainer m1', 'createContainer m2', 'createContainer m2'],
    );
  });

  it("keeps a committed container's files and labels in the image, and copies volume files", async () => {
    const provider = await engineWithNetwork();
    await provider.createContainer(machine('m1', '10.9.0.10'));
    await provider.writeFiles('m1', [{ path: '/etc/x', content: 'y' }]);
    await provider.commitContainer('m1', 'snap:1', { snap: '1' });
    provider.volumes.get('m1-data')!.files.set('f', 'v');
    await provider.copyVolumes([{ from: 'm1-data', to: 'copy', labels: { snap: '1' } }], { image: 'node', labels: {} });
    await provider.createContainer({ ...machine('m3', '10.9.0.13'), image: 'snap:1' });
    assert.equal(provider.containers.get('m3')!.files.get('/etc/x'), 'y');
    assert.deepEqual(provider.containers.get('m3')!.info.labels, { app: 'm3', snap: '1' });
    assert.deepEqual([...provider.volumes.get('copy')!.files], [['f', 'v']]);
  });
});
