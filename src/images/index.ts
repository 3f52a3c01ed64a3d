import { boxRecipe } from './box-recipe.js';
import { nodeRecipe } from './node-recipe.js';
import { recipeTag, type ImageRecipe } from './recipe.js';

export { DEFAULT_BASE_IMAGE, DEBOOTSTRAP_BASE_IMAGE, DEBIAN_SUITE, recipeTag, type ImageRecipe, type RecipeFile } from './recipe.js';
export { nodeRecipe, boxRecipe };

export const defaultNodeImage = (): string => recipeTag(nodeRecipe);
export const defaultBoxImage = (): string => recipeTag(boxRecipe);

export const RECIPES: readonly ImageRecipe[] = [nodeRecipe, boxRecipe];
