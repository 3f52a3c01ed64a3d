import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { assetDir, type AssetManifest, cacheRoot, hostArch, recordAssetSet, sha256File, verifiedAssets, verifiedSetIn } from '../assets/cache.js';
import { download } from '../assets/download.js';
import { localBuildName, saveLocalBuild } from '../assets/local-builds.js';
import { pullPinned } from '../assets/pinned-pull.js';
import { withAssetSetLock } from '../assets/lock.js';
import { KiabError } from '../errors.js';
import { LABEL } from '../labels.js';
import { packageRoot } from '../package-files.js';
import { runProcess } from '../process.js';
import type { Provider } from '../provider/types.js';
import { runStep, type Reporter } from '../reporter.js';
import { kiabVersion } from '../version.js';
import {
  ADDON_SET_VERSION,
  COMPONENTS,
  COMPONENT_NAMES,
  DEFINITION_SETS,
  GATEWAY_API,
  METALLB_MANIFEST,
  NETWORK_POLICY_API,
  type ComponentName,
  type DefinitionSet,
} from './components.js';

/** A verified addon asset set: image archives by component and MetalLB's manifest. */
export interface AddonAssets {
  dir: string;
  manifest: AssetManifest;
  reused: boolean;
}

export interface AddonAssetRequest {
  provider: Provider;
  reporter: Reporter;
  force: boolean;
  signal?: AbortSignal;
}

const KEY = { distribution: 'addons', version: ADDON_SET_VERSION } as const;
export const METALLB_MANIFEST_FILE = 'manifests/metallb-native.yaml';
/** A definition set's files in the asset set, one each as upstream has them. */
export const definitionFiles = (set: DefinitionSet): string[] => Object.keys(set.files).map((file) => `manifests/${set.name}/${file}`);
/** Gateway API's definitions, which the ingress addon installs. */
export const GATEWAY_API_FILES = definitionFiles(GATEWAY_API);
/** AdminNetworkPolicy's and BaselineAdminNetworkPolicy's definitions, which the pod network's policy controller serves. */
export const NETWORK_POLICY_API_FILES = definitionFiles(NETWORK_POLICY_API);
export const imageFile = (component: ComponentName): string => `images/${component}.tar`;

/** The cached, verified addon set; a missing one names both ways to make it. */
export async function addonAssets(): Promise<AddonAssets> {
  const found = await verifiedAssets({ ...KEY, arch: hostArch() });
  if (!found) {
    throw new KiabError(`no addon assets (set ${ADDON_SET_VERSION}) in the cache`, {
      hint: 'build them from their Go modules with `kiab assets build --k8s kubeadm` (needs Go), pull the official images with `kiab assets pull --k8s kubeadm`, or import a set made with `kiab assets export --addons` on another machine; `--no-addons` makes a cluster without them',
    });
  }
  return { ...found, reused: true };
}

/** MetalLB's manifest is the one file both paths share: it must be the release's, byte for byte. */
async function checkMetallbManifest(path: string, from: string): Promise<void> {
  const sum = await sha256File(path);
  if (sum !== METALLB_MANIFEST.sha256)
    throw new KiabError(`${from}: MetalLB ${METALLB_MANIFEST.version}'s manifest has sha256 ${sum}, not ${METALLB_MANIFEST.sha256}; refusing it`);
}

async function saveImage(provider: Provider, component: ComponentName, dir: string): Promise<string> {
  const file = imageFile(component);
  await pipeline(await provider.saveImages([COMPONENTS[component].image]), createWriteStream(join(dir, file)));
  return file;
}

function recordSet(
  dir: string,
  source: AssetManifest['source'],
  images: Record<string, string>,
  imageDigests: Record<string, string> = {},
): Promise<AddonAssets> {
  return recordAssetSet(dir, { ...KEY, source, images, imageDigests }, [METALLB_MANIFEST_FILE, ...DEFINITION_SETS.flatMap(definitionFiles)]);
}

/** A set of definitions from its module: each file must be upstream's, byte for byte, as MetalLB's manifest. */
async function copyDefinitions(set: DefinitionSet, from: string, dir: string): Promise<void> {
  await mkdir(join(dir, 'manifests', set.name), { recursive: true });
  for (const [file, sha256] of Object.entries(set.files)) {
    const sum = await sha256File(join(from, file));
    if (sum !== sha256) throw new KiabError(`${from}: ${set.title}'s ${file} has sha256 ${sum}, not ${sha256}; refusing it`);
    await copyFile(join(from, file), join(dir, 'manifests', set.name, file));
  }
}

/** How busybox is made without a registry: Debian's static build, on nothing else. */
function busyboxDockerfile(version: string): string {
  return [
    'ARG BASE',
    'FROM ${BASE} AS debian',
    'RUN apt-get update && apt-get install -y --no-install-recommends busybox-static && rm -rf /var/lib/apt/lists/*',
    // The image is named after the upstream release: a Debian that moved on must not hide behind the old name.
    `RUN busybox | head -n 1 | grep -F 'BusyBox v${version} '`,
    'FROM scratch',
    'COPY --from=debian /bin/busybox /bin/busybox',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    'CMD ["sh"]',
    '',
  ].join('\n');
}

/**
 * `kiab assets build` for the addons: compiles them from their Go modules (kubebuild/addons/build.sh), makes
 * each an image under its upstream name with the binary where the official image has it, makes busybox from
 * Debian's busybox-static on `baseImage`, and keeps MetalLB's manifest and the definition sets (Gateway API's, the Network Policy API's) from their modules.
 */
export async function buildAddonAssets(request: AddonAssetRequest & { baseImage: string }): Promise<AddonAssets> {
  const { provider, reporter } = request;
  const dir = assetDir({ ...KEY, arch: hostArch() });
  const cached = request.force ? undefined : await verifiedSetIn(dir);
  if (cached) return cached;
  const script = join(packageRoot(), 'kubebuild', 'addons', 'build.sh');
  if (!existsSync(script)) throw new KiabError('the kubebuild/addons Go modules are not installed next to kiab', { hint: 'run kiab from its repository' });
  // Go's own caches make a second build a no-op; the output folder stays put for that.
  const buildBin = join(cacheRoot(), 'build', 'addons', ADDON_SET_VERSION, 'bin');
  await runStep(reporter, 'compile the addons from their Go modules', (progress) =>
    runProcess('bash', [script, buildBin], {
      onLine: (line) => progress.update(line),
      ...(request.signal ? { signal: request.signal } : {}),
      what: 'building the addons from source',
      hint: 'check that `go` is on PATH and the Go module proxy answers (GOPROXY)',
      missing: { message: 'cannot run the addon build: bash is not installed', hint: 'install bash and Go (https://go.dev/dl)' },
    }),
  );
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'images'), { recursive: true });
  await mkdir(join(dir, 'manifests'), { recursive: true });
  await checkMetallbManifest(join(buildBin, 'metallb-native.yaml'), buildBin);
  await copyFile(join(buildBin, 'metallb-native.yaml'), join(dir, METALLB_MANIFEST_FILE));
  for (const set of DEFINITION_SETS) await copyDefinitions(set, join(buildBin, set.name), dir);

  const images: Record<string, string> = {};
  await runStep(reporter, 'build addon images', async (progress) => {
    for (const name of COMPONENT_NAMES) {
      const component: { image: string; binary?: string; path: string; entrypoint: readonly string[] } = COMPONENTS[name];
      progress.update(component.image);
      const files = component.binary
        ? [
            {
              path: 'Dockerfile',
              content: `FROM scratch\nCOPY ${component.binary} ${component.path}\nENV PATH=/usr/local/bin:/usr/bin:/bin\nENTRYPOINT ${JSON.stringify(component.entrypoint)}\n`,
            },
            { path: component.binary, content: await readFile(join(buildBin, component.binary)), mode: 0o755 },
          ]
        : [{ path: 'Dockerfile', content: busyboxDockerfile(component.image.split(':').pop()!) }];
      await provider.buildImage({
        tag: localBuildName(component.image),
        files,
        buildArgs: component.binary ? {} : { BASE: request.baseImage },
        labels: { [LABEL.managed]: kiabVersion },
        onProgress: (line) => progress.update(`${component.image}: ${line}`),
      });
      await saveLocalBuild(provider, component.image, join(dir, imageFile(name)));
      images[imageFile(name)] = component.image;
    }
  });
  return recordSet(dir, 'build', images);
}

/** Where MetalLB's release files come from; KIAB_METALLB_RELEASE_URL points at a mirror. */
function metallbReleaseBase(): string {
  return (process.env.KIAB_METALLB_RELEASE_URL ?? 'https://raw.githubusercontent.com/metallb/metallb').replace(/\/+$/, '');
}

/** Where a definition set's files come from; its variable points at a mirror. */
function definitionsReleaseBase(set: DefinitionSet): string {
  return (process.env[set.releaseBaseVariable] ?? set.releaseBase).replace(/\/+$/, '');
}

/**
 * `kiab assets pull` for the addons: the official images, pulled by the engine (one it already holds is used
 * as it is), and MetalLB's release manifest and the definition sets, each checked against the sum of the copy in its Go module.
 */
export async function pullAddonAssets(request: AddonAssetRequest): Promise<AddonAssets> {
  const dir = assetDir({ ...KEY, arch: hostArch() });
  const cached = await verifiedSetIn(dir);
  if (cached) return cached;
  return withAssetSetLock(dir, () => downloadAddonAssets(request, dir), {
    ...(request.signal ? { signal: request.signal } : {}),
    onWait: (holder) => request.reporter.warn(`waiting for ${holder}, which is writing the addon set ${dir}`),
  });
}

/** The pull itself, under the set's lock: a set another process finished meanwhile is taken as it is. */
async function downloadAddonAssets(request: AddonAssetRequest, dir: string): Promise<AddonAssets> {
  const { provider, reporter, signal } = request;
  const finished = await verifiedSetIn(dir);
  if (finished) return finished;
  await mkdir(join(dir, 'images'), { recursive: true });
  await runStep(reporter, `download MetalLB ${METALLB_MANIFEST.version} manifest`, async () => {
    const url = `${metallbReleaseBase()}${METALLB_MANIFEST.releasePath}`;
    await download(url, join(dir, METALLB_MANIFEST_FILE), { sha256: METALLB_MANIFEST.sha256, ...(signal ? { signal } : {}) });
  });
  for (const set of DEFINITION_SETS) {
    await mkdir(join(dir, 'manifests', set.name), { recursive: true });
    await runStep(reporter, `download ${set.title} definitions`, async () => {
      for (const [file, sha256] of Object.entries(set.files)) {
        const url = `${definitionsReleaseBase(set)}${set.releaseDir}/${file}`;
        await download(url, join(dir, 'manifests', set.name, file), { sha256, ...(signal ? { signal } : {}) });
      }
    });
  }
  const images: Record<string, string> = {};
  const digests: Record<string, string> = {};
  for (const name of COMPONENT_NAMES) {
    const ref = COMPONENTS[name].image;
    await runStep(reporter, `pull ${ref}`, async (progress) => {
      digests[ref] = await pullPinned(provider, ref, (line) => progress.update(line), signal);
      images[await saveImage(provider, name, dir)] = ref;
    });
  }
  return recordSet(dir, 'release', images, digests);
}
