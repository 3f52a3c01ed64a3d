import { KiabError } from '../../errors.js';
import { DEBOOTSTRAP_BASE_IMAGE, DEFAULT_BASE_IMAGE, RECIPES, recipeTag, type ImageRecipe } from '../../images/index.js';
import { debootstrapRootfs } from '../../images/debootstrap.js';
import { LABEL, type MachineRole } from '../../labels.js';
import { clusterNames } from '../../names.js';
import { distributionFor } from '../../distribution/index.js';
import type { Provider } from '../../provider/types.js';
import type { ClusterSpec } from '../../spec/schema.js';
import { kiabVersion } from '../../version.js';
import { withAddonImages } from '../kubernetes/addons.js';
import { ensurePreloadedImages } from './preload.js';
import { boxImageOf, nodeImageOf } from './topology.js';
import { runStep, type Reporter } from '../../reporter.js';

export interface BaseChoice {
  /** An image to build on; pulled when missing. */
  image?: string;
  /** Make the base with debootstrap instead of pulling it. */
  fromDebootstrap?: boolean;
}

async function ensureDebootstrapBase(provider: Provider, reporter: Reporter, force: boolean): Promise<string> {
  if (!force && (await provider.imageExists(DEBOOTSTRAP_BASE_IMAGE))) return DEBOOTSTRAP_BASE_IMAGE;
  await runStep(reporter, `make base image ${DEBOOTSTRAP_BASE_IMAGE} with debootstrap`, async (progress) => {
    // debootstrap's own errors say what is missing and what to do (not installed, mirror unreachable).
    const rootfs = await debootstrapRootfs((line) => progress.update(line));
    try {
      progress.update('importing root filesystem');
      await provider.importImage(rootfs.tar, DEBOOTSTRAP_BASE_IMAGE);
    } finally {
      await rootfs.cleanup();
    }
  });
  return DEBOOTSTRAP_BASE_IMAGE;
}

/**
 * Picks the base to build on. A base that cannot be pulled (no registry access) falls back to one made
 * from Debian's packages with debootstrap, saying so, because that works behind most firewalls.
 */
async function resolveBase(provider: Provider, reporter: Reporter, choice: BaseChoice): Promise<string> {
  if (choice.fromDebootstrap) return ensureDebootstrapBase(provider, reporter, false);
  if (choice.image === undefined && (await provider.imageExists(DEBOOTSTRAP_BASE_IMAGE))) return DEBOOTSTRAP_BASE_IMAGE;
  const image = choice.image ?? DEFAULT_BASE_IMAGE;
  if (await provider.imageExists(image)) return image;
  try {
    await runStep(reporter, `pull base image ${image}`, (progress) => provider.pullImage(image, (line) => progress.update(line)));
    return image;
  } catch (error) {
    if (choice.image !== undefined)
      throw new KiabError(`cannot pull base image ${image}: ${(error as Error).message}`, {
        hint: 'pass --base-from-debootstrap to make a base from Debian packages',
        cause: error,
      });
    reporter.warn(`cannot pull ${image} (${(error as Error).message.split('\n')[0]}); making the base from Debian packages instead`);
    return ensureDebootstrapBase(provider, reporter, false);
  }
}

/** The Debian base kiab builds on (for images made from Debian's packages), made or pulled when missing. */
export function ensureBaseImage(provider: Provider, reporter: Reporter): Promise<string> {
  return resolveBase(provider, reporter, {});
}

async function buildRecipe(provider: Provider, reporter: Reporter, recipe: ImageRecipe, base: string): Promise<void> {
  const tag = recipeTag(recipe);
  await runStep(reporter, `build ${recipe.name} image ${tag}`, (progress) =>
    provider.buildImage({
      tag,
      files: recipe.files,
      buildArgs: { BASE: base },
      labels: { [LABEL.managed]: kiabVersion, [LABEL.recipe]: tag },
      onProgress: (line) => progress.update(line),
    }),
  );
}

/** `kiab image build`: (re)builds the node and box images. */
export async function buildImages(
  provider: Provider,
  reporter: Reporter,
  choice: BaseChoice & { force?: boolean },
): Promise<{ base: string; images: string[] }> {
  await provider.ping();
  const base = await resolveBase(provider, reporter, choice);
  const images: string[] = [];
  for (const recipe of RECIPES) {
    const tag = recipeTag(recipe);
    if (choice.force || !(await provider.imageExists(tag))) await buildRecipe(provider, reporter, recipe, base);
    images.push(tag);
  }
  return { base, images };
}

/** The image each role's machines are made from. */
export type MachineImages = Record<MachineRole, string>;

/**
 * The images a cluster needs, made present: kiab's own are built when missing, a user's own pulled, the
 * distribution's derived node image built on top, and the images it preloads per role made from that.
 */
export async function ensureClusterImages(
  provider: Provider,
  reporter: Reporter,
  spec: ClusterSpec,
  /** The roles of the machines about to be made from these images. */
  roles: MachineRole[],
  signal?: AbortSignal,
): Promise<MachineImages> {
  const wanted = { node: nodeImageOf(spec), box: boxImageOf(spec) };
  const distribution = distributionFor(spec.distribution);
  const derived = await distribution.nodeImage(spec, wanted.node);
  await ensureBaseImages(provider, reporter, wanted);
  if (!derived) return { server: wanted.node, worker: wanted.node };
  if (!(await provider.imageExists(derived.tag))) {
    await runStep(reporter, `build node image ${derived.tag}`, async (progress) =>
      provider.buildImage({
        tag: derived.tag,
        files: await derived.files(),
        buildArgs: { BASE: wanted.node },
        labels: { [LABEL.managed]: kiabVersion, [LABEL.recipe]: derived.tag },
        onProgress: (line) => progress.update(line),
      }),
    );
  }
  if (!derived.preload) return { server: derived.tag, worker: derived.tag };
  return ensurePreloadedImages({
    provider,
    reporter,
    names: clusterNames(spec.name),
    nodeImage: derived.tag,
    preload: await withAddonImages(derived.preload, spec, distribution),
    roles,
    ...(signal ? { signal } : {}),
  });
}

async function ensureBaseImages(provider: Provider, reporter: Reporter, wanted: { node: string; box: string }): Promise<void> {
  const missing: ImageRecipe[] = [];
  for (const [role, ref] of [
    ['node', wanted.node],
    ['box', wanted.box],
  ] as const) {
    if (await provider.imageExists(ref)) continue;
    const recipe = RECIPES.find((candidate) => candidate.name === role && recipeTag(candidate) === ref);
    if (recipe) {
      missing.push(recipe);
      continue;
    }
    try {
      await runStep(reporter, `pull ${role} image ${ref}`, (progress) => provider.pullImage(ref, (line) => progress.update(line)));
    } catch (error) {
      throw new KiabError(`images.${role}: cannot pull ${ref}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
  }
  if (missing.length === 0) return;
  const base = await resolveBase(provider, reporter, {});
  for (const recipe of missing) await buildRecipe(provider, reporter, recipe, base);
}
