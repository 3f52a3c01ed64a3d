declare const KIAB_VERSION: string | undefined;

/** Injected by the bundler; falls back for tests that run the sources directly. */
export const kiabVersion: string = typeof KIAB_VERSION === 'string' ? KIAB_VERSION : '0.0.0-dev';
