// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_KUBEADM_VERSION } from '../../src/distribution/kubeadm/assets.js';
import { KUBEBUILD_BINARIES } from '../../src/distribution/kubeadm/kubebuild.js';
import { packageRoot } from '../../src/package-files.js';
import { labelledObjects, type Run, run, tempDir } from './helpers.js';
import { kubeadmSkip } from './kubeadm-cache.js';

const CLUSTER = 'fb-pkg';
const pkg = JSON.parse(await readFile(join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string };

/** What kiab reads at run time, beside its bundle: a package without one of these cannot make images or build Kubernetes. */
const NEEDED = [
  'bin/kiab.mjs',
  'dist/kiab.mjs',
  'schema/kiab.schema.json',
  'src/images/files/kiab-entrypoint.sh',
  'src/images/files/kiab-box-forward.sh',
  'src/images/files/kiab-box-lb.sh',
  'src/cli/files/kiab.bash',
  'src/distribution/kubeadm/files/kubelet.service',
  'src/distribution/kubeadm/files/kiab-pod-network.sh',
  'src/distribution/k3s/files/k3s.service',
  'kubebuild/build.sh',
  'kubebuild/addons/build.sh',
  'kubebuild/gen-replaces.sh',
  'kubebuild/gen-release.sh',
  'kubebuild/go.mod',
  'kubebuild/tools.go',
  'kubebuild/cmd/pause/main.go',
  'kubebuild/etcd/go.mod',
  'kubebuild/coredns/go.mod',
  // Each release's module files: what build.sh builds it from.
  ...['kubernetes/go.mod', 'kubernetes/go.sum', 'kubernetes/e2e_tools.go', 'etcd/go.mod', 'etcd/go.sum', 'coredns/go.mod', 'coredns/go.sum'].map(
    (file) => `kubebuild/releases/${DEFAULT_KUBEADM_VERSION}/${file}`,
  ),
];

describe('the npm package, packed and installed globally as a user would', () => {
  let folder: string;
  let tarball: string;
  let installed: string;
  let elsewhere: string;
  const installedKiab = (args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> =>
    run(join(installed, 'bin', 'kiab'), args, { env, timeoutMs: 600_000 });

  before(async () => {
    folder = await tempDir('kiab-package-');
    elsewhere = join(folder, 'elsewhere');
    await mkdir(elsewhere);
    // npm pack bundles first (prepack), so the tarball holds the current build.
    process.chdir(packageRoot());
    const packed = await run('npm', ['pack', '--json', '--pack-destination', folder]);
    assert.equal(packed.code, 0, packed.stderr);
    tarball = join(folder, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    installed = join(folder, 'prefix');
    // Dependencies come from the npm registry (or npm's cache); the package itself only from the tarball.
    const install = await run('npm', ['install', '--global', '--prefix', installed, '--prefer-offline', '--no-audit', '--no-fund', tarball]);
    assert.equal(install.code, 0, install.stderr);
    // Every kiab from here on starts in a folder outside the repository, so nothing of the checkout can stand in.
    process.chdir(elsewhere);
  });
  after(async () => {
    process.chdir(packageRoot());
    await installedKiab(['delete', CLUSTER]);
    await rm(folder, { recursive: true, force: true });
  });

  it('holds everything kiab reads at run time, and of kubebuild/ only its sources', async () => {
    const listed = await run('tar', ['-tzf', tarball]);
    assert.equal(listed.code, 0, listed.stderr);
    const files = listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, ''));
    for (const path of NEEDED) assert.ok(files.includes(path), `${path} is in the package`);
    const kubebuild = files.filter((path) => path.startsWith('kubebuild/'));
    assert.deepEqual(
      kubebuild.filter((path) => !/(\.go|\.sh|go\.mod|go\.sum|README\.md)$/.test(path)),
      [],
      'no build output in kubebuild/',
    );
    // Scripts and units beside the sources (src/**/files/) ship; the TypeScript itself is bundled into dist/.
    assert.ok(!files.some((path) => path.startsWith('test/') || (path.startsWith('src/') && path.endsWith('.ts'))), 'no tests or TypeScript sources');
  });

  it('runs from outside the repository: --version and assets list', async () => {
    const version = await installedKiab(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);
    const listed = await installedKiab(['assets', 'list', '-o', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(Array.isArray(JSON.parse(listed.stdout)));
  });

  it("brings bare machines up with the package's image recipes and scripts, and deletes them", async () => {
    const up = await installedKiab(['up', CLUSTER, '--k8s', 'none', '--workers', '0', '--no-snapshot', '-o', 'json']);
    assert.equal(up.code, 0, up.stderr);
    const status = JSON.parse(up.stdout) as { state: string; nodes: Array<{ system: string }> };
    assert.equal(status.state, 'running');
    assert.deepEqual(
      status.nodes.map((node) => node.system),
      ['running'],
    );
    const deleted = await installedKiab(['delete', CLUSTER]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });

  it(
    'compiles Kubernetes with the Go module it carries, and in a log prints a progress line at least every 20 s naming what compiles',
    { skip: kubeadmSkip && `Go's caches are cold (${kubeadmSkip}): a cold build takes too long for this test` },
    async () => {
      // Its own cache, so the build really runs (warm Go caches keep it to about a minute) and the shared set is left alone.
      const cache = join(folder, 'cache');
      const child = spawn(join(installed, 'bin', 'kiab'), ['assets', 'build', '--k8s', 'kubeadm', '--k8s-version', DEFAULT_KUBEADM_VERSION, '--force'], {
        cwd: elsewhere,
        env: { ...process.env, KIAB_CACHE_DIR: cache },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const started = Date.now();
      const lines: Array<{ at: number; text: string }> = [];
      let partial = '';
      child.stderr.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString();
        const complete = text.split('\n');
        partial = complete.pop()!;
        for (const line of complete) lines.push({ at: Date.now(), text: line });
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const [code] = (await once(child, 'close')) as [number | null];
      const log = lines.map((line) => line.text).join('\n');
      assert.equal(code, 0, log);
      assert.match(stdout, new RegExp(`^built kubeadm ${DEFAULT_KUBEADM_VERSION} assets in ${cache}/`));

      const times = [started, ...lines.map((line) => line.at)];
      const gaps = times.slice(1).map((at, index) => at - times[index]!);
      assert.ok(Math.max(...gaps) <= 20_000, `the longest quiet spell was ${Math.max(...gaps)} ms:\n${log}`);
      const compiling = new RegExp(`^… compile Kubernetes ${DEFAULT_KUBEADM_VERSION} from the Go modules — (\\S+) \\((\\d+)/${KUBEBUILD_BINARIES.length}\\)`);
      const named = lines.map((line) => compiling.exec(line.text)).filter((match) => match !== null);
      assert.ok(named.length > 0, `a progress line names the binary being compiled:\n${log}`);
      for (const match of named) assert.equal(KUBEBUILD_BINARIES[Number(match[2]) - 1], match[1], match[0]);
      assert.ok(!log.includes('\x1b'), 'no terminal control in a log');

      // What a kubeadm cluster uses, Kubernetes and the addons; the conformance suite only with --conformance.
      const sets = JSON.parse((await installedKiab(['assets', 'list', '-o', 'json'], { ...process.env, KIAB_CACHE_DIR: cache })).stdout) as Array<{
        distribution: string;
        source: string;
        verified: boolean;
      }>;
      assert.deepEqual(
        sets.map((set) => [set.distribution, set.source, set.verified]),
        [
          ['addons', 'build', true],
          ['kubeadm', 'build', true],
        ],
      );
    },
  );

  it(
    'brings the default distribution up from the assets it built: a Ready kubeadm cluster, then deletes it',
    { skip: kubeadmSkip && `Go's caches are cold (${kubeadmSkip}): the build above did not run` },
    async () => {
      const env = { ...process.env, KIAB_CACHE_DIR: join(folder, 'cache'), KUBECONFIG: join(folder, 'kubeconfig') };
      const up = await installedKiab(['up', CLUSTER, '--workers', '1', '--no-addons', '--no-snapshot', '-o', 'json'], env);
      assert.equal(up.code, 0, up.stderr);
      const status = JSON.parse(up.stdout) as { distribution: string; nodes: Array<{ kubernetes?: { ready: boolean } | null }> };
      assert.equal(status.distribution, 'kubeadm');
      assert.deepEqual(
        status.nodes.map((node) => node.kubernetes?.ready),
        [true, true],
      );
      const deleted = await installedKiab(['delete', CLUSTER], env);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
    },
  );
});
