import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The directory holding kiab's package.json: the repository when run from source (src/*.ts) or from the
 * bundle (dist/kiab.mjs and its chunks under dist/chunks), the installed package otherwise. Found by walking
 * up from this module to the first package.json, which is the root's wherever the bundle puts the module.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`kiab is not installed as a package: no package.json above ${start}`);
  }
}

/**
 * A file shipped with kiab (a script, a unit, a config baked into an image), read from its path relative
 * to the package root, e.g. `src/images/files/kiab-entrypoint.sh`. Synchronous, so that modules can turn
 * these files into constants when they load. The package.json "files" list must cover every such path.
 */
export function readPackageFile(path: string): string {
  const file = join(packageRoot(), path);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`kiab is incompletely installed: ${(error as Error).message}`, { cause: error });
  }
}
