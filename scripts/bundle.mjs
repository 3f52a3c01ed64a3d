// Bundles the CLI into dist/kiab.mjs, with what it imports on demand (the Kubernetes client, undici) split
// into chunks beside it: a command that never talks to Kubernetes does not load half of the code.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

// Chunks are named by content: those of an earlier build would otherwise pile up beside the new ones.
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
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
});
