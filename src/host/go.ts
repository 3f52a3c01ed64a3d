import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runProcess } from '../process.js';
import { ok, warn, type Finding } from './finding.js';

/**
 * Where `go` is on PATH, found without running it (cheap enough for an error message to say whether
 * `kiab assets build` is an option here), or undefined.
 */
export function goOnPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'go');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder: look further along PATH.
    }
  }
  return undefined;
}

/** `go version` as Go says it (go1.26.8), or undefined when it is not installed or does not run. */
export async function goVersion(): Promise<string | undefined> {
  if (!goOnPath()) return undefined;
  const answer = await runProcess('go', ['version']).catch(() => '');
  return /\bgo\d+\.\d+(\.\d+)?\S*/.exec(answer)?.[0];
}

/** Judges Go for `kiab assets build`; it only matters when the assets `kiab up` uses are not cached yet. */
export function goFinding(version: string | undefined, assetsCached: boolean): Finding {
  if (version) return ok('go', `${version} is installed: \`kiab assets build\` can compile Kubernetes from its Go modules`);
  if (assetsCached) return ok('go', 'Go is not installed; only `kiab assets build` needs it, and the assets `kiab up` uses are cached');
  return warn(
    'go',
    'Go is not installed, so `kiab assets build` cannot compile Kubernetes here: `kiab up` must download the release, which needs network',
    'install Go (https://go.dev/dl), or bring assets made elsewhere with `kiab assets import FILE`',
  );
}
