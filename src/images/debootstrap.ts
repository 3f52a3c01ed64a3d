import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { runProcess } from '../process.js';
import { DEBIAN_SUITE } from './recipe.js';

export const DEBIAN_MIRROR = process.env.KIAB_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/** Packages in the debootstrapped base; the image recipes add the rest with apt. */
const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'ca-certificates'];

/**
 * Builds a minimal Debian root filesystem with debootstrap and returns it as a tar stream for the engine
 * to import. Works with no image registry at all; needs root, debootstrap and a Debian mirror.
 */
export async function debootstrapRootfs(onLine?: (line: string) => void): Promise<{ tar: Readable; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-rootfs-'));
  try {
    await runProcess('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, DEBIAN_SUITE, dir, DEBIAN_MIRROR], {
      ...(onLine ? { onLine } : {}),
      what: 'debootstrap',
      missing: {
        message: 'debootstrap is not installed, so the base image cannot be made from Debian packages',
        hint: 'install it (`apt-get install debootstrap`) or make the base image pullable and pass --base IMAGE',
      },
      hint: 'check that the Debian mirror is reachable (KIAB_DEBIAN_MIRROR) and that kiab runs as root',
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const child = spawn('tar', ['-C', dir, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return {
    tar: child.stdout,
    cleanup: async () => {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
