import { createHash } from 'node:crypto';

export interface RecipeFile {
  path: string;
  content: string | Buffer;
  mode?: number;
}

/** An image kiab builds itself: a Dockerfile taking ARG BASE, and the files it copies. */
export interface ImageRecipe {
  name: 'node' | 'box';
  repository: string;
  files: RecipeFile[];
}

/** The tag is a hash of the recipe, so a changed recipe yields a new image and never a stale one. */
export function recipeTag(recipe: ImageRecipe): string {
  const hash = createHash('sha256');
  for (const file of [...recipe.files].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(`${file.path}\0${file.mode ?? 0o644}\0`);
    hash.update(file.content);
    hash.update('\0');
  }
  return `${recipe.repository}:${hash.digest('hex').slice(0, 12)}`;
}

/** Debian release the default images are made from; see README for why trixie. */
export const DEBIAN_SUITE = 'trixie';
export const DEFAULT_BASE_IMAGE = `debian:${DEBIAN_SUITE}-slim`;
export const DEBOOTSTRAP_BASE_IMAGE = `kiab/base:${DEBIAN_SUITE}`;
