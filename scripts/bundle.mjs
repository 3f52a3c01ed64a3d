// Bundles the CLI into one ESM file so that `kiab --version` loads a single module.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/kiab.mjs',
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
