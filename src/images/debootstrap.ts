import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DEBIAN_SUITE } from './recipe.js';

export const DEBIAN_MIRROR = process.env.KIAB_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/** Packages in the debootstrapped base; the image recipes add the rest with apt. */
const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'ca-certificates'];

function run(command: string, args: string[], onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      tail = (tail + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim()) onLine?.(line.trim());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${tail.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/**
 * Builds a minimal Debian root filesystem with debootstrap and returns it as a tar stream for the engine
 * to import. Works with no image registry at all; needs root, debootstrap and a Debian mirror.
 */
export async function debootstrapRootfs(onLine?: (line: string) => void): Promise<{ tar: Readable; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiab-rootfs-'));
  try {
    await run('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, DEBIAN_SUITE, dir, DEBIAN_MIRROR], onLine);
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
