import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RegistryCredentials } from './index.js';

/** The docker CLI's config file, where `docker login` keeps a registry's login: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/**
 * Does what `docker login` does with no credential helper: an `auths` entry per registry name with the login,
 * every other setting of the file kept. The file is written whole (mode 0600) and renamed into place.
 */
export async function saveDockerLogin(registries: readonly string[], credentials: RegistryCredentials, path = dockerConfigPath()): Promise<string> {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const auths = { ...((config.auths as Record<string, unknown> | undefined) ?? {}) };
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  for (const registry of registries) auths[registry] = { auth };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.kiab-${process.pid}`;
  await writeFile(temporary, `${JSON.stringify({ ...config, auths }, null, '\t')}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return path;
}
