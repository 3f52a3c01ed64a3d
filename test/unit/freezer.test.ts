import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { thawContainerCgroups } from '../../src/host/freezer.js';

const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

async function cgroup(root: string, path: string, state: string): Promise<string> {
  await mkdir(join(root, path), { recursive: true });
  await writeFile(join(root, path, 'freezer.state'), `${state}\n`);
  return join(root, path, 'freezer.state');
}

describe('thawContainerCgroups', () => {
  const roots: string[] = [];
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });
  const freezer = async (): Promise<string> => {
    const root = await mkdtemp(join(tmpdir(), 'kiab-freezer-'));
    roots.push(root);
    return root;
  };

  for (const layout of [`docker/${ID}`, `system.slice/docker-${ID}.scope`]) {
    it(`thaws the frozen cgroups below ${layout.split('/')[0]}, and nothing of another container`, async () => {
      const root = await freezer();
      const own = await cgroup(root, layout, 'THAWED');
      const pod = await cgroup(root, `${layout}/kubepods.slice/pod1/c1`, 'FROZEN');
      const freezing = await cgroup(root, `${layout}/kubepods.slice/pod2`, 'FREEZING');
      const other = await cgroup(root, `docker/${OTHER}/kubepods.slice/pod3`, 'FROZEN');
      assert.equal(await thawContainerCgroups(ID, root), 2);
      assert.equal((await readFile(pod, 'utf8')).trim(), 'THAWED');
      assert.equal((await readFile(freezing, 'utf8')).trim(), 'THAWED');
      assert.equal((await readFile(own, 'utf8')).trim(), 'THAWED');
      assert.equal((await readFile(other, 'utf8')).trim(), 'FROZEN');
    });
  }

  it('finds nothing to thaw for a container without a freezer cgroup (cgroup v2, another host)', async () => {
    assert.equal(await thawContainerCgroups(ID, await freezer()), 0);
  });
});
