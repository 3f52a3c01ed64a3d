// test-lane: cluster — it brings up a Kubernetes cluster (or compiles or moves its assets): see scripts/test-lanes.ts
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { copyFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assetDir, hostArch, type AssetManifest } from '../../src/assets/cache.js';
import { ADDON_SET_VERSION, COMPONENTS, DEFINITION_SETS, METALLB_MANIFEST } from '../../src/addons/index.js';
import { DEFAULT_KUBEADM_VERSION, MACHINE_BINARIES } from '../../src/distribution/kubeadm/assets.js';
import { conformanceImage } from '../../src/distribution/kubeadm/conformance.js';
import { defaultBoxImage } from '../../src/images/index.js';
import { registryConfig } from '../../src/registry/index.js';
import { docker, eventually, httpGet, kiab, run, tempDir } from './helpers.js';
import { CONFORMANCE_ASSETS, conformanceSkip } from './kubeadm-cache.js';

const BUILT = assetDir({ distribution: 'kubeadm', version: DEFAULT_KUBEADM_VERSION, arch: hostArch() });
const present = await stat(join(BUILT, 'manifest.json')).then(
  () => true,
  () => false,
);
const ADDONS_BUILT = assetDir({ distribution: 'addons', version: ADDON_SET_VERSION, arch: hostArch() });
const addonsPresent = await stat(join(ADDONS_BUILT, 'manifest.json')).then(
  () => true,
  () => false,
);
const skip =
  present && addonsPresent
    ? false
    : `no kubeadm and addon assets in ${BUILT} and ${ADDONS_BUILT} to serve as a release (run \`kiab assets build --k8s kubeadm\`)`;

/**
 * Serves dl.k8s.io's layout (release/VERSION/bin/linux/ARCH/NAME and NAME.sha256) from the built binaries, and
 * MetalLB's (VERSION/config/manifests/metallb-native.yaml) and each definition set's (VERSION/config/crd/standard/FILE)
 * from the built addon set. The images, control plane and addons, are served by a registry mirror (kiab pulls
 * them by digest, always), from the built sets standing for the official ones, which cannot be pulled here.
 */
async function releaseServer(tamper: string | undefined, emptySums = false): Promise<{ server: Server; url: string }> {
  const files = new Map<string, Buffer>();
  const metallb = await readFile(join(ADDONS_BUILT, 'manifests', 'metallb-native.yaml'));
  files.set(METALLB_MANIFEST.releasePath, tamper === 'metallb' ? Buffer.concat([metallb, Buffer.from('# tampered\n')]) : metallb);
  for (const set of DEFINITION_SETS)
    for (const file of Object.keys(set.files)) {
      const definition = await readFile(join(ADDONS_BUILT, 'manifests', set.name, file));
      files.set(`${set.releaseDir}/${file}`, tamper === file ? Buffer.concat([definition, Buffer.from('# tampered\n')]) : definition);
    }
  for (const binary of MACHINE_BINARIES) {
    const data = await readFile(join(BUILT, 'bin', binary));
    const path = `/${DEFAULT_KUBEADM_VERSION}/bin/linux/${hostArch()}/${binary}`;
    files.set(`${path}.sha256`, emptySums ? Buffer.alloc(0) : Buffer.from(createHash('sha256').update(data).digest('hex')));
    files.set(path, binary === tamper ? Buffer.concat([data, Buffer.from('tampered')]) : data);
  }
  const server = createServer((request, response) => {
    const body = files.get(request.url ?? '');
    if (!body) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** The mirror's storage, kept between runs as Go's caches are, so that an image already there is not pushed again. */
const MIRROR_STORAGE = 'kiab-e2e-image-mirror-storage';

/** The image ID (its configuration's digest) of a `docker save` or OCI archive, from the archive's manifest.json. */
async function archiveImageId(archive: string): Promise<string> {
  const listed = await run('tar', ['-xOf', archive, 'manifest.json']);
  assert.equal(listed.code, 0, listed.stderr);
  const [image] = JSON.parse(listed.stdout) as Array<{ Config: string }>;
  return `sha256:${basename(image!.Config).replace(/\.json$/, '')}`;
}

/**
 * A registry mirror on loopback (Debian's docker-registry, from kiab's box image). `push` moves an image the
 * engine holds into it and untags it locally, so kiab has to pull it (the mirror's tag keeps the layers);
 * `pushArchive` does so for an image archive, unless the mirror's tag holds that very image already (the same
 * configuration digest, which names every layer's). Both return the digest the mirror gives the tag.
 */
async function startMirror(): Promise<{
  host: string;
  mirrored: (ref: string) => string;
  push: (ref: string) => Promise<string>;
  pushArchive: (archive: string, ref: string) => Promise<string>;
  stop: () => Promise<void>;
}> {
  const config = join(await tempDir('kiab-mirror-'), 'registry.yml');
  await writeFile(config, registryConfig());
  const name = 'kiab-e2e-image-mirror';
  await docker(['rm', '-f', '-v', name]).catch(() => undefined);
  await docker([
    'run',
    '-d',
    '--name',
    name,
    '-p',
    '127.0.0.1::5000',
    '-v',
    `${config}:/etc/registry.yml:ro`,
    '-v',
    `${MIRROR_STORAGE}:/var/lib/docker-registry`,
    '--entrypoint',
    '/usr/bin/docker-registry',
    defaultBoxImage(),
    'serve',
    '/etc/registry.yml',
  ]);
  const port = (await docker(['port', name, '5000/tcp'])).trim().split(':').pop();
  // The engine pushes to localhost (no insecure-registry setting needed); the test asks 127.0.0.1, where the port
  // is published, through node:http (see httpGet for why not fetch).
  const host = `localhost:${port}`;
  const api = `http://127.0.0.1:${port}/v2`;
  await eventually(async () => assert.equal((await httpGet(`${api}/`)).status, 200), 20_000, 200);
  const mirrored = (ref: string) => `${host}/${ref.slice(ref.indexOf('/') + 1)}`;
  /** The digest of the mirror's manifest for `ref`, when its image is `imageId`. */
  const held = async (ref: string, imageId: string): Promise<string | undefined> => {
    const path = ref.slice(ref.indexOf('/') + 1);
    const colon = path.lastIndexOf(':');
    const response = await httpGet(`${api}/${path.slice(0, colon)}/manifests/${path.slice(colon + 1)}`, {
      accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    });
    if (response.status !== 200) return undefined;
    const manifest = JSON.parse(response.body) as { config?: { digest?: string } };
    return manifest.config?.digest === imageId ? response.headers['docker-content-digest'] : undefined;
  };
  const pushed: string[] = [];
  const push = async (ref: string): Promise<string> => {
    await docker(['tag', ref, mirrored(ref)]);
    pushed.push(mirrored(ref));
    await eventually(() => docker(['push', mirrored(ref)]), 20_000, 500);
    const digest = (await docker(['image', 'inspect', '-f', '{{index .RepoDigests 0}}', mirrored(ref)])).trim().split('@')[1]!;
    await docker(['rmi', ref]);
    return digest;
  };
  return {
    host,
    mirrored,
    push,
    pushArchive: async (archive, ref) => {
      const digest = await held(ref, await archiveImageId(archive));
      if (digest) return digest;
      await docker(['load', '-q', '-i', archive]);
      return push(ref);
    },
    stop: async () => {
      for (const ref of pushed) await docker(['rmi', ref]).catch(() => undefined);
      await docker(['rm', '-f', '-v', name]).catch(() => undefined);
    },
  };
}

if (skip) it('kubeadm release assets', { skip }, () => undefined);
else
  describe('kubeadm release assets (assets pull --k8s kubeadm)', () => {
    let good: Awaited<ReturnType<typeof releaseServer>>;
    let bad: Awaited<ReturnType<typeof releaseServer>>;
    let unsummed: Awaited<ReturnType<typeof releaseServer>>;
    let badMetallb: Awaited<ReturnType<typeof releaseServer>>;
    let badGateway: Awaited<ReturnType<typeof releaseServer>>;
    let mirror: Awaited<ReturnType<typeof startMirror>>;
    /** The control-plane images the mirror serves, each with the digest it gave it; and the addon images. */
    const pushed = new Map<string, string>();
    const pushedAddons = new Map<string, string>();
    let built: AssetManifest;
    let addonsBuilt: AssetManifest;
    const mirrors = (server: { url: string }): NodeJS.ProcessEnv => ({
      KIAB_K8S_RELEASE_URL: server.url,
      KIAB_METALLB_RELEASE_URL: server.url,
      ...Object.fromEntries(DEFINITION_SETS.map((set) => [set.releaseBaseVariable, server.url])),
      KIAB_IMAGE_MIRROR: mirror.host,
    });
    before(async () => {
      built = JSON.parse(await readFile(join(BUILT, 'manifest.json'), 'utf8')) as AssetManifest;
      addonsBuilt = JSON.parse(await readFile(join(ADDONS_BUILT, 'manifest.json'), 'utf8')) as AssetManifest;
      mirror = await startMirror();
      for (const [file, ref] of Object.entries(built.images)) pushed.set(ref, await mirror.pushArchive(join(BUILT, file), ref));
      for (const [file, ref] of Object.entries(addonsBuilt.images)) pushedAddons.set(ref, await mirror.pushArchive(join(ADDONS_BUILT, file), ref));
      good = await releaseServer(undefined);
      bad = await releaseServer('kubelet');
      unsummed = await releaseServer(undefined, true);
      badMetallb = await releaseServer('metallb');
      badGateway = await releaseServer('gateway.networking.k8s.io_httproutes.yaml');
    });
    after(async () => {
      await mirror.stop();
      // Upstream names on the engine are for this suite only: kiab's own builds carry kiab/build/… names.
      for (const ref of [...Object.values(built.images), ...Object.values(addonsBuilt.images)]) await docker(['rmi', ref]).catch(() => undefined);
      good.server.close();
      bad.server.close();
      unsummed.server.close();
      badMetallb.server.close();
      badGateway.server.close();
    });

    it('refuses an empty .sha256 instead of downloading unchecked, and caches nothing', async () => {
      const cache = await tempDir('kiab-cache-');
      const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm'], { env: { ...process.env, KIAB_CACHE_DIR: cache, KIAB_K8S_RELEASE_URL: unsummed.url } });
      assert.equal(pulled.code, 1);
      assert.match(pulled.stderr.trim().split('\n').pop()!, /kubelet\.sha256 holds no sha256 sum; refusing to download kubelet unchecked/);
      const listed = JSON.parse((await kiab(['assets', 'list', '-o', 'json'], { env: { ...process.env, KIAB_CACHE_DIR: cache } })).stdout) as Array<{
        verified: boolean;
      }>;
      assert.ok(
        listed.every((row) => !row.verified),
        'no verified set came of it',
      );
    });

    it('downloads binaries checked against their .sha256, saves the control-plane and addon images, and lists both sets as verified', async () => {
      const env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-cache-'), ...mirrors(good) };
      const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm', '-o', 'json'], { env });
      assert.equal(pulled.code, 0, pulled.stderr);
      const [result, addons] = JSON.parse(pulled.stdout) as Array<{
        manifest: {
          source: string;
          images: Record<string, string>;
          imageDigests: Record<string, string>;
          files: Record<string, { sha256: string } | undefined>;
        };
      }>;
      assert.ok(result && addons, 'the kubeadm set and the addon set');
      const addonImages = Object.values(COMPONENTS)
        .map((component) => component.image)
        .sort();
      assert.deepEqual(Object.values(addons.manifest.images).sort(), addonImages);
      // Pulled by the digest the mirror gave each one: the engine held none of them under its name.
      assert.deepEqual(addons.manifest.imageDigests, Object.fromEntries(addonImages.map((ref) => [ref, pushedAddons.get(ref)])));
      assert.ok(addons.manifest.files['manifests/metallb-native.yaml'], "MetalLB's manifest is in the set");
      for (const set of DEFINITION_SETS)
        for (const [file, sha256] of Object.entries(set.files)) assert.equal(addons.manifest.files[`manifests/${set.name}/${file}`]?.sha256, sha256, file);
      assert.equal(result.manifest.source, 'release');
      assert.deepEqual(Object.keys(result.manifest.images).sort(), [
        'images/coredns.tar',
        'images/etcd.tar',
        'images/kube-apiserver.tar',
        'images/kube-controller-manager.tar',
        'images/kube-scheduler.tar',
        'images/pause.tar',
      ]);
      const listed = JSON.parse((await kiab(['assets', 'list', '-o', 'json'], { env })).stdout) as Array<{
        distribution: string;
        verified: boolean;
        source: string;
      }>;
      assert.deepEqual(
        listed.map((row) => [row.distribution, row.source, row.verified]),
        [
          ['addons', 'release', true],
          ['kubeadm', 'release', true],
        ],
      );
    });

    it("refuses a MetalLB manifest that is not the release's", async () => {
      const env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-cache-'), ...mirrors(badMetallb) };
      const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm'], { env });
      assert.equal(pulled.code, 1);
      assert.match(pulled.stderr, /metallb-native\.yaml does not match its published checksum/);
    });

    it("refuses a Gateway API definition that is not the release's", async () => {
      const env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-cache-'), ...mirrors(badGateway) };
      const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm'], { env });
      assert.equal(pulled.code, 1);
      assert.match(pulled.stderr, /gateway\.networking\.k8s\.io_httproutes\.yaml does not match its published checksum/);
    });

    it('refuses a binary that does not match its published sum', async () => {
      const env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-cache-'), KIAB_K8S_RELEASE_URL: bad.url };
      const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm'], { env });
      assert.equal(pulled.code, 1);
      assert.match(pulled.stderr, /kubelet does not match its published checksum/);
    });

    it('pulls each control-plane image by the digest its tag points at, from a registry mirror, and records the digests', async () => {
      const env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-cache-'), ...mirrors(good) };
      const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm', '-o', 'json'], { env });
      assert.equal(pulled.code, 0, pulled.stderr);
      const [result] = (JSON.parse(pulled.stdout) as Array<{ manifest: AssetManifest }>).filter((set) => set.manifest.distribution === 'kubeadm');
      assert.deepEqual(result!.manifest.imageDigests, Object.fromEntries(pushed));
      for (const ref of pushed.keys()) {
        const repoDigests = (await docker(['image', 'inspect', '-f', '{{join .RepoDigests " "}}', ref])).trim();
        assert.ok(
          repoDigests.split(' ').includes(`${mirror.mirrored(ref).replace(/:[^:/]+$/, '')}@${pushed.get(ref)}`),
          `${ref}: pulled by ${repoDigests}, not by the digest pushed`,
        );
      }
    });

    it(
      "pull --conformance takes e2e.test and ginkgo out of upstream's conformance image and each test image by digest",
      { skip: conformanceSkip },
      async () => {
        const suiteBuilt = JSON.parse(await readFile(join(CONFORMANCE_ASSETS, 'manifest.json'), 'utf8')) as AssetManifest;
        // Upstream's layout, made from the built suite: the binaries in /usr/local/bin of an image of that name.
        const context = await tempDir('kiab-conformance-image-');
        const suite = conformanceImage(DEFAULT_KUBEADM_VERSION);
        // Every test image goes through the mirror, but those the kubeadm set holds (pause; v1.37's etcd), which the
        // conformance set takes from there.
        const fromKubeadm = new Set(Object.values(built.images));
        const testImages = Object.entries(suiteBuilt.images).filter(([, ref]) => !fromKubeadm.has(ref));
        const suitePushed = new Map<string, string>();
        try {
          for (const binary of ['e2e.test', 'ginkgo']) await copyFile(join(CONFORMANCE_ASSETS, 'bin', binary), join(context, binary));
          await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nCOPY e2e.test ginkgo /usr/local/bin/\n');
          await docker(['build', '-q', '-t', suite, context]);
          suitePushed.set(suite, await mirror.push(suite));
          for (const [file, ref] of testImages) suitePushed.set(ref, await mirror.pushArchive(join(CONFORMANCE_ASSETS, file), ref));
          assert.ok(testImages.length >= 5, `test images pulled from the mirror: ${testImages.map(([, ref]) => ref).join(', ')}`);

          const env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-cache-'), ...mirrors(good) };
          const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm', '--conformance', '-o', 'json'], { env });
          assert.equal(pulled.code, 0, pulled.stderr);
          const [set] = (JSON.parse(pulled.stdout) as Array<{ dir: string; manifest: AssetManifest }>).filter(
            (candidate) => candidate.manifest.distribution === 'conformance',
          );
          assert.ok(set, 'a conformance set');
          assert.equal(set.manifest.source, 'release');
          assert.deepEqual(set.manifest.imageDigests, Object.fromEntries(suitePushed));
          assert.deepEqual(Object.values(set.manifest.images).sort(), Object.values(suiteBuilt.images).sort(), 'every image the specs run');
          for (const binary of ['e2e.test', 'ginkgo'])
            assert.equal(set.manifest.files[`bin/${binary}`]?.sha256, suiteBuilt.files[`bin/${binary}`]?.sha256, `${binary} is the one in the image`);
          const listed = JSON.parse((await kiab(['assets', 'list', '-o', 'json'], { env })).stdout) as Array<{ distribution: string; verified: boolean }>;
          assert.deepEqual(
            listed.map((row) => [row.distribution, row.verified]),
            [
              ['addons', true],
              ['conformance', true],
              ['kubeadm', true],
            ],
          );
        } finally {
          for (const ref of [suite, ...testImages.map(([, ref]) => ref)]) await docker(['rmi', ref]).catch(() => undefined);
          await rm(context, { recursive: true, force: true });
        }
      },
    );

    it('says which URL it could not reach when there is no network', async () => {
      const env = { ...process.env, KIAB_CACHE_DIR: await tempDir('kiab-cache-'), KIAB_K8S_RELEASE_URL: 'http://127.0.0.1:1' };
      const pulled = await kiab(['assets', 'pull', '--k8s', 'kubeadm'], { env });
      assert.equal(pulled.code, 1);
      assert.match(
        pulled.stderr.trim().split('\n').pop()!,
        new RegExp(
          `^kiab: cannot download http://127\\.0\\.0\\.1:1/${DEFAULT_KUBEADM_VERSION.replace(/\./g, '\\.')}/bin/linux/amd64/kubelet\\.sha256 \\(ECONNREFUSED\\)`,
        ),
      );
    });
  });
