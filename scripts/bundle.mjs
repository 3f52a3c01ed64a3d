// Bundles the CLI into dist/kiab.mjs, with what it imports on demand (the Kubernetes client, undici) split
// into chunks beside it: a command that never talks to Kubernetes does not load half of the code.
import { build } from 'esbuild';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

const root = fileURLToPath(new URL('..', import.meta.url));

/** Code a dependency loads at start for a feature kiab never uses, or uses only on some hosts. */
const STUBS = [
  {
    // dockerode's BuildKit session (grpc-js and protobufjs, a third of the bundle) serves `version: '2'` builds
    // only; kiab's builds are classic ones. Without it every command has that much less to parse.
    importer: `${sep}dockerode${sep}lib${sep}docker.js`,
    path: './session',
    contents: "module.exports = function () { throw new Error('kiab does not bundle BuildKit sessions'); };",
  },
  {
    // docker-modem loads ssh2 at start for ssh:// engines: it is loaded when such an engine is first dialled.
    importer: `${sep}docker-modem${sep}lib${sep}ssh.js`,
    path: 'ssh2',
    contents: "exports.Client = function Client(...args) { return new (require('ssh2').Client)(...args); };",
  },
];

/** Serves each stub in place of the module it stands for, for that one importer. */
const stubs = {
  name: 'kiab-stubs',
  setup(build) {
    // Only the stubbed paths reach the callback: every other import resolves without a call into JavaScript.
    const escaped = STUBS.map((stub) => stub.path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    build.onResolve({ filter: new RegExp(`^(${escaped.join('|')})$`) }, (args) => {
      const index = STUBS.findIndex((stub) => stub.path === args.path && args.importer.endsWith(stub.importer));
      return index < 0 ? undefined : { path: String(index), namespace: 'kiab-stub' };
    });
    build.onLoad({ filter: /.*/, namespace: 'kiab-stub' }, (args) => ({ contents: STUBS[Number(args.path)].contents, loader: 'js' }));
  },
};

const { metafile, outputFiles } = await build({
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
  // Written below, each file whole: a kiab started meanwhile (the package test packs beside running suites)
  // must never load a half-written one, which Node runs as far as it goes and then exits 0.
  write: false,
  plugins: [stubs],
});

// Each file goes to a temporary name and is renamed into place, the chunks before the entry point that loads them.
const chunks = join(root, 'dist', 'chunks');
const inChunks = (file) => dirname(file.path) === chunks;
for (const { path, contents } of [...outputFiles.filter(inChunks), ...outputFiles.filter((file) => !inChunks(file))]) {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, contents);
  await rename(partial, path);
}

// Chunks are named by their content, so those of earlier builds would pile up (and be packed): they go after
// the build rather than dist before it, as a kiab running from this checkout loads chunks on demand and so
// still finds every one whose content this build did not change.
const built = new Set(Object.keys(metafile.outputs).map((output) => join(root, output)));
for (const file of await readdir(chunks)) if (!built.has(join(chunks, file))) await rm(join(chunks, file));
