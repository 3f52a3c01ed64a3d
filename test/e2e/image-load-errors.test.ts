import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KIAB, kiab, kiabOk, run } from './helpers.js';

const CLUSTER = 'hd-load';
/** A user without root, in the engine's group: what a developer on a shared host is. */
const USER = 'kiab-e2e-user';

/** Why the unreadable-archive test cannot run as another user here, or false when it can. */
async function otherUserSkip(): Promise<false | string> {
  if (process.getuid?.() !== 0) return 'needs root to run kiab as another user';
  if ((await run('getent', ['group', 'docker'])).code !== 0) return 'the engine socket has no docker group to give another user';
  if ((await run('id', [USER])).code !== 0 && (await run('useradd', ['--no-create-home', '--groups', 'docker', USER])).code !== 0)
    return `cannot create user ${USER}`;
  return false;
}
const skipOtherUser = await otherUserSkip();

describe('image load of an archive it cannot read', () => {
  before(async () => {
    await kiab(['delete', CLUSTER]);
    await kiabOk(['up', CLUSTER, '--k8s', 'none', '--workers', '1', '--no-snapshot']);
  });
  after(async () => {
    await kiab(['delete', CLUSTER]);
  });

  it('a file the user may not read: one line naming it, nothing crashes', { skip: skipOtherUser }, async () => {
    // A folder the other user can look into, with a file it cannot read.
    const dir = await mkdtemp(join(tmpdir(), 'kiab-e2e-unreadable-'));
    await chmod(dir, 0o755);
    const archive = join(dir, 'images.tar');
    await writeFile(archive, 'not read');
    await chmod(archive, 0o000);
    const result = await run('runuser', [
      '-u',
      USER,
      '--',
      'env',
      `HOME=${dir}`,
      process.execPath,
      KIAB,
      'image',
      'load',
      '--cluster',
      CLUSTER,
      '--archive',
      archive,
    ]);
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^kiab: --archive: cannot read ${archive}`));
  });

  it('a file whose read fails mid-way: every import ends, one line', async () => {
    // Readable by its mode, but reading kiab's own memory at offset 0 fails with EIO.
    const result = await kiab(['image', 'load', '--cluster', CLUSTER, '--archive', '/proc/self/mem']);
    assert.equal(result.code, 1, result.stderr);
    // The failed step's own line, then the error's: no stack trace.
    assert.equal(result.stderr.split('\n').filter((line) => line.startsWith('kiab:')).length, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /^\s+at /m, result.stderr);
    assert.match(result.stderr, /^kiab: cannot read \/proc\/self\/mem \(EIO\)/m);
  });
});
