import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkIngress,
  checkLoadBalancer,
  checkMetrics,
  checkStatus,
  checkStorage,
  checkStorageRestored,
  STORAGE_SNAPSHOT,
  type AddonCluster,
} from './addon-checks.js';
import { cachedK3sAssets } from '../../src/distribution/k3s/assets.js';
import { DEFAULT_K3S_VERSION } from '../../src/distribution/k3s/release.js';
import {
  assertInterrupts,
  docker,
  eventually,
  kiab,
  kiabJson,
  labelledObjects,
  makeBusyboxImage,
  run,
  type Run,
  startKiab,
  type StatusJson,
  tempDir,
} from './helpers.js';

const VERSION = 'v1.2.3+k3s1';
const CLUSTER = 'e2e-k3s';

/** Release files as a k3s release has them, but the "binary" is a stand-in that fails to start on purpose. */
function releaseFiles(): Record<string, Buffer> {
  const binary = Buffer.from('#!/bin/sh\necho "k3s stand-in: not a real k3s, refusing to start ($*)" >&2\nexit 1\n');
  const images = Buffer.alloc(3 << 20, 7);
  const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
  const sums = Buffer.from(`${sha(binary)}  k3s\n${sha(images)}  k3s-airgap-images-amd64.tar.zst\n`);
  return { k3s: binary, 'k3s-airgap-images-amd64.tar.zst': images, 'sha256sum-amd64.txt': sums };
}

/** Versions whose files the release server sends slowly, 64 KiB every 200 ms: a download to interrupt. */
const SLOW_VERSION = 'v1.2.6+k3s1';

async function dripFeed(response: ServerResponse, body: Buffer): Promise<void> {
  for (let offset = 0; offset < body.length && !response.destroyed; offset += 64 << 10) {
    response.write(body.subarray(offset, offset + (64 << 10)));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  response.end();
}

/** A release server on loopback with Range support, recording what it was asked. */
async function releaseServer(files: Record<string, Record<string, Buffer>>): Promise<{ server: Server; url: string; ranges: string[] }> {
  const ranges: string[] = [];
  const server = createServer((request, response) => {
    const [, version, name] = decodeURIComponent(request.url ?? '').split('/');
    const body = files[version ?? '']?.[name ?? ''];
    if (!body) return void response.writeHead(404).end();
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (range) {
      ranges.push(`${name}:${range[1]}`);
      const start = Number(range[1]);
      response
        .writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` })
        .end(body.subarray(start));
      return;
    }
    response.writeHead(200, { 'content-length': body.length });
    if (version === SLOW_VERSION) return void dripFeed(response, body);
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, ranges };
}

/** The error itself is one line (progress lines of the steps before it may precede it), with no stack trace. */
function oneLine(result: Run): string {
  const errors = result.stderr
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('kiab:'));
  assert.equal(errors.length, 1, `one error line: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  return errors[0]!;
}

describe('k3s assets and install, without the real k3s binary', () => {
  const good = releaseFiles();
  const corrupt = { ...good, k3s: Buffer.from('#!/bin/sh\necho tampered\n') };
  let release: Awaited<ReturnType<typeof releaseServer>>;
  let env: NodeJS.ProcessEnv;
  const withCache = async (): Promise<NodeJS.ProcessEnv> => ({ ...env, KIAB_CACHE_DIR: await tempDir('kiab-cache-') });

  before(async () => {
    release = await releaseServer({ [VERSION]: good, 'v1.2.4+k3s1': corrupt, [SLOW_VERSION]: good });
    env = { ...process.env, KIAB_K3S_RELEASE_URL: release.url, KUBECONFIG: join(await tempDir('kiab-kc-'), 'config') };
    await kiab(['delete', CLUSTER], { env });
  });
  after(async () => {
    release.server.close();
    await kiab(['delete', CLUSTER], { env });
  });

  it('assets pull downloads, verifies against the published sums, and lists the set as verified', async () => {
    const cacheEnv = await withCache();
    const pulled = await kiab(['assets', 'pull', '--k8s', 'k3s', '--k8s-version', VERSION, '--arch', 'amd64'], { env: cacheEnv });
    assert.equal(pulled.code, 0, pulled.stderr);
    const listed = JSON.parse((await kiab(['assets', 'list', '-o', 'json'], { env: cacheEnv })).stdout) as Array<{
      distribution: string;
      version: string;
      verified: boolean;
      files: number;
    }>;
    assert.deepEqual(
      listed.map((row) => [row.distribution, row.version, row.verified, row.files]),
      [['k3s', VERSION, true, 3]],
    );
  });

  it('assets pull resumes an interrupted download with a Range request', async () => {
    const cacheEnv = await withCache();
    const dir = join(cacheEnv.KIAB_CACHE_DIR!, 'assets', 'k3s', VERSION, 'linux-amd64');
    await mkdir(dir, { recursive: true });
    const half = good['k3s-airgap-images-amd64.tar.zst']!.subarray(0, 1 << 20);
    await writeFile(join(dir, 'k3s-airgap-images-amd64.tar.zst.part'), half);
    const pulled = await kiab(['assets', 'pull', '--k8s', 'k3s', '--k8s-version', VERSION, '--arch', 'amd64'], { env: cacheEnv });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(release.ranges.includes(`k3s-airgap-images-amd64.tar.zst:${1 << 20}`), `ranges asked: ${release.ranges.join(',')}`);
    assert.ok((await readFile(join(dir, 'k3s-airgap-images-amd64.tar.zst'))).equals(good['k3s-airgap-images-amd64.tar.zst']!));
  });

  it('a download that does not match its published checksum is refused and never cached', async () => {
    const cacheEnv = await withCache();
    const pulled = await kiab(['assets', 'pull', '--k8s', 'k3s', '--k8s-version', 'v1.2.4+k3s1', '--arch', 'amd64'], { env: cacheEnv });
    assert.equal(pulled.code, 1);
    assert.match(oneLine(pulled), /k3s does not match its published checksum/);
    const dir = join(cacheEnv.KIAB_CACHE_DIR!, 'assets', 'k3s', 'v1.2.4+k3s1', 'linux-amd64');
    assert.ok(!(await readdir(dir)).includes('k3s'), 'the bad binary is not in the cache');
  });

  it('with no cached assets and no network, up says what is missing and how to get it, and creates nothing', async () => {
    const offline = { ...(await withCache()), KIAB_K3S_RELEASE_URL: 'http://127.0.0.1:1' };
    const result = await kiab(['up', CLUSTER, '--k8s', 'k3s', '--k8s-version', VERSION], { env: offline });
    assert.equal(result.code, 1);
    const line = oneLine(result);
    assert.match(line, /no k3s v1\.2\.3\+k3s1 assets \(k3s, sha256sum-amd64\.txt, k3s-airgap-images-amd64\.tar\.zst\)/);
    assert.match(line, /kiab assets pull/);
    assert.match(line, /kiab assets import/);
    assert.match(line, /--k8s none/);
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });

  it('Ctrl-C during the download of up stops it at once: exit 130, nothing created, the partial file kept to resume', async () => {
    const cacheEnv = await withCache();
    const running = startKiab(['up', CLUSTER, '--k8s', 'k3s', '--k8s-version', SLOW_VERSION], cacheEnv);
    const part = join(cacheEnv.KIAB_CACHE_DIR!, 'assets', 'k3s', SLOW_VERSION, 'linux-amd64', 'k3s-airgap-images-amd64.tar.zst.part');
    await eventually(async () => assert.ok((await stat(part)).size > 0, 'the images download started'));
    assert.doesNotMatch(await assertInterrupts(running), /AbortError|DOMException|aborted/);
    assert.ok((await stat(part)).size < good['k3s-airgap-images-amd64.tar.zst']!.length, 'the download stopped before its end');
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });

  it('assets import takes files from disk and refuses one that does not match the sums, naming it', async () => {
    const dir = await tempDir('kiab-release-');
    for (const [name, data] of Object.entries(good)) await writeFile(join(dir, name), data);
    const cacheEnv = await withCache();
    const imported = await kiab(['assets', 'import', '--k8s-version', VERSION, ...Object.keys(good).map((name) => join(dir, name))], { env: cacheEnv });
    assert.equal(imported.code, 0, imported.stderr);
    assert.ok((await cachedK3sAssets(VERSION, 'amd64').catch(() => undefined)) !== null);

    await writeFile(join(dir, 'k3s'), corrupt.k3s!);
    const refused = await kiab(['assets', 'import', '--k8s-version', 'v1.2.5+k3s1', ...Object.keys(good).map((name) => join(dir, name))], {
      env: await withCache(),
    });
    assert.equal(refused.code, 1);
    assert.match(oneLine(refused), new RegExp(`${join(dir, 'k3s').replace(/[.+]/g, '\\$&')} does not match sha256sum-amd64\\.txt`));
  });

  it('a cached asset corrupted later is refused by checksum, with its path, before anything is created', async () => {
    const cacheEnv = await withCache();
    assert.equal((await kiab(['assets', 'pull', '--k8s', 'k3s', '--k8s-version', VERSION, '--arch', 'amd64'], { env: cacheEnv })).code, 0);
    const binary = join(cacheEnv.KIAB_CACHE_DIR!, 'assets', 'k3s', VERSION, 'linux-amd64', 'k3s');
    await truncate(binary, 10);
    const result = await kiab(['up', CLUSTER, '--k8s', 'k3s', '--k8s-version', VERSION], { env: cacheEnv });
    assert.equal(result.code, 1);
    assert.match(oneLine(result), new RegExp(`asset ${binary.replace(/[.+]/g, '\\$&')} does not match its checksum`));
    assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
  });

  describe('install on machines (the stand-in k3s refuses to start)', () => {
    let cacheEnv: NodeJS.ProcessEnv;
    let result: Run;
    before(async () => {
      cacheEnv = await withCache();
      assert.equal((await kiab(['assets', 'pull', '--k8s', 'k3s', '--k8s-version', VERSION, '--arch', 'amd64'], { env: cacheEnv })).code, 0);
      result = await kiab(['up', CLUSTER, '--k8s', 'k3s', '--k8s-version', VERSION, '--workers', '1', '--wait', '20s', '--no-snapshot'], { env: cacheEnv });
    });

    it('up stops at the deadline and shows the last lines of the k3s journal, not a bare timeout', () => {
      assert.equal(result.code, 1, result.stderr);
      const last = result.stderr.trim().split('\n').pop()!;
      assert.match(
        last,
        /k3s did not start on kiab-e2e-k3s-server-0 before the deadline; last lines of its journal: .*k3s stand-in: not a real k3s, refusing to start \(server\)/,
      );
    });

    it('writes config.yaml with the box SANs, registries.yaml and a 0600 token file on each machine', async () => {
      const status = await kiabJson<{ address: string; registry: { host: string } }>(['status', CLUSTER]);
      const config = await docker(['exec', `kiab-${CLUSTER}-server-0`, 'cat', '/etc/rancher/k3s/config.yaml']);
      assert.match(config, new RegExp(`- ${status.address.replace(/\./g, '\\.')}\\n`));
      assert.match(config, /- kiab-e2e-k3s-box\n/);
      assert.match(config, /node-ip: 172\.\d+\.\d+\.10/);
      const agent = await docker(['exec', `kiab-${CLUSTER}-worker-0`, 'cat', '/etc/rancher/k3s/config.yaml']);
      assert.match(agent, /server: https:\/\/kiab-e2e-k3s-box:6443/);
      const registries = await docker(['exec', `kiab-${CLUSTER}-worker-0`, 'cat', '/etc/rancher/k3s/registries.yaml']);
      assert.match(registries, new RegExp(`${status.registry.host}:\\n\\s+endpoint:\\n\\s+- http://kiab-e2e-k3s-box:5000`));
      for (const machine of ['server-0', 'worker-0']) {
        const mode = await docker(['exec', `kiab-${CLUSTER}-${machine}`, 'stat', '-c', '%a', '/etc/rancher/k3s/k3s.env']);
        assert.equal(mode, '600');
      }
      const token = (await docker(['exec', `kiab-${CLUSTER}-server-0`, 'cat', '/etc/rancher/k3s/k3s.env'])).replace('K3S_TOKEN=', '');
      assert.match(token, /^[0-9a-f]{64}$/);
      assert.equal(await docker(['exec', `kiab-${CLUSTER}-worker-0`, 'cat', '/etc/rancher/k3s/k3s.env']), `K3S_TOKEN=${token}`, 'agents share the token');
      // The secret is in no log, no process listing and no engine metadata.
      assert.ok(!result.stderr.includes(token) && !result.stdout.includes(token));
      assert.ok(!(await docker(['inspect', `kiab-${CLUSTER}-server-0`])).includes(token));
      assert.ok(!(await docker(['exec', `kiab-${CLUSTER}-server-0`, 'ps', '-eo', 'args'])).includes(token));
    });

    it("the air-gap images are in the directory k3s imports from, on the machine's volume", async () => {
      const listing = await docker([
        'exec',
        `kiab-${CLUSTER}-worker-0`,
        'stat',
        '-c',
        '%s',
        '/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst',
      ]);
      assert.equal(Number(listing), 3 << 20);
      const mounts = await docker(['inspect', '-f', '{{range .Mounts}}{{.Destination}} {{end}}', `kiab-${CLUSTER}-worker-0`]);
      assert.match(mounts, /\/var\/lib\/rancher\/k3s/);
    });

    it('delete removes it all', async () => {
      assert.equal((await kiab(['delete', CLUSTER], { env: cacheEnv })).code, 0);
      assert.deepEqual(await labelledObjects(CLUSTER), { containers: [], networks: [], volumes: [] });
    });
  });
});

// The real k3s: runs where its assets are cached (kiab assets pull/import) or KIAB_K3S_VERSION names a cached set.
const realVersion = process.env.KIAB_K3S_VERSION ?? DEFAULT_K3S_VERSION;
const realAssets = await cachedK3sAssets(realVersion, 'amd64').catch(() => undefined);
const realBinaryWorks = realAssets ? (await run(realAssets.binary, ['--version'])).code === 0 : false;
const realSkip = realBinaryWorks
  ? false
  : `k3s ${realVersion} assets are not in the cache (${realAssets ? 'the cached binary does not run here' : 'run `kiab assets pull --k8s k3s` or `kiab assets import`, or set KIAB_K3S_VERSION'}); this host cannot download them`;

describe('a real k3s cluster', () => {
  const NAME = 'e2e-k3s-real';
  let env: NodeJS.ProcessEnv;
  before(async () => {
    env = { ...process.env, KUBECONFIG: join(await tempDir('kiab-kc-'), 'config') };
  });
  after(async () => {
    await kiab(['delete', NAME], { env });
  });

  // Skipped here (with its reason in the summary) when the real binary is not cached.
  it('comes up with 1 server + 2 workers Ready, adds and removes a node, and is deleted', { skip: realSkip }, async () => {
    const up = await kiab(['up', NAME, '--k8s', 'k3s', '--k8s-version', realVersion, '--workers', '2', '--wait', '8m', '-o', 'json'], { env });
    assert.equal(up.code, 0, up.stderr);
    const kubectl = (...args: string[]): Promise<Run> => run('kubectl', args, { env });
    const nodes = await kubectl('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}');
    assert.deepEqual(nodes.stdout.trim().split(' '), ['True', 'True', 'True']);
    // k3s's own addons pass the same acceptance checks as kiab's on kubeadm (a node's own address for LoadBalancers).
    const status = JSON.parse(up.stdout) as StatusJson;
    await makeBusyboxImage(`${status.registry!.host}/busybox:e2e`);
    await docker(['push', `${status.registry!.host}/busybox:e2e`]);
    const must = async (...args: string[]): Promise<string> => {
      const result = await kubectl(...args);
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
      return result.stdout.trim();
    };
    const cluster: AddonCluster = {
      name: NAME,
      status,
      busybox: `${status.registry!.host}/busybox:e2e`,
      kubectl: must,
      kubectlInput: async (input, ...args) => {
        const result = await run('kubectl', args, { env, input });
        if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
        return result.stdout.trim();
      },
      kiab: (args) => kiab(args, { env }),
    };
    await checkStatus(cluster);
    await checkIngress(cluster);
    await checkLoadBalancer(cluster, false);
    await checkStorage(cluster);
    const restored = await cluster.kiab(['snapshot', 'restore', NAME, STORAGE_SNAPSHOT]);
    assert.equal(restored.code, 0, restored.stderr);
    await checkStorageRestored(cluster);
    await cluster.kiab(['snapshot', 'rm', NAME, STORAGE_SNAPSHOT]);
    await checkMetrics(
      cluster,
      status.nodes.map((node) => node.name),
    );
    assert.equal((await kiab(['node', 'add', '--cluster', NAME], { env })).code, 0);
    assert.equal((await kiab(['node', 'rm', `kiab-${NAME}-worker-2`], { env })).code, 0);
    assert.equal((await kiab(['delete', NAME], { env })).code, 0);
    assert.ok(
      !(
        (await stat(env.KUBECONFIG!).then(
          (info) => info.size,
          () => 0,
        )) > 0 && (await readFile(env.KUBECONFIG!, 'utf8')).includes(`kiab-${NAME}`)
      ),
    );
  });
});
