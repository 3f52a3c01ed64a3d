// Bundles the CLI into dist/kiab.mjs, with what it imports on demand (the Kubernetes client, undici) split
// into chunks beside it: a command that never talks to Kubernetes does not load half of the code.
import { build } from 'esbuild';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

const root = fileURLToPath(new URL('..', import.meta.url));

const { metafile } = await build({
  entryPoints: { kiab: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  // ssh2 carries optional native addons; it stays a runtime dependency instead of being inlined.
  external: ['ssh2', 'cpu-features'],
  define: { KIAB_VERSION: JSON.stringify(pkg.version) },
  // CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: { js: "import { createRequire as __kiabCreateRequire } from 'node:module'; const require = __kiabCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  metafile: true,
});

// Chunks are named by their content, so those of earlier builds would pile up (and be packed): they go after
// the build rather than dist before it, as a kiab running from this checkout loads chunks on demand and so
// still finds every one whose content this build did not change.
const built = new Set(Object.keys(metafile.outputs).map((output) => join(root, output)));
const chunks = join(root, 'dist', 'chunks');
for (const file of await readdir(chunks)) if (!built.has(join(chunks, file))) await rm(join(chunks, file));
