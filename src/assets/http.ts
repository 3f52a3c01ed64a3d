/**
 * undici, loaded the first time kiab reaches the network (a download, a registry's digest): most commands
 * never do, and the CLI starts faster without it.
 */
export const undici = (): Promise<typeof import('./undici.js')> => import('./undici.js');
