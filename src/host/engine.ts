import { fail, ok, type Finding } from './finding.js';

/** Engine API 1.41 (Docker 20.10) is the first that gives a container a private cgroup namespace, as every machine has. */
const MIN_API = [1, 41] as const;

function apiAtLeast(version: string, [major, minor]: readonly [number, number]): boolean {
  const [have, haveMinor] = version.split('.').map(Number) as [number, number];
  return have > major || (have === major && haveMinor >= minor);
}

/** Judges the engine kiab reached (or the error that says it could not). */
export function engineFinding(endpoint: string, engine: { version: string; apiVersion: string } | { error: Error & { hint?: string } }): Finding {
  if ('error' in engine) return fail('engine', engine.error.message, engine.error.hint ?? 'start the engine, or point DOCKER_HOST at one that runs');
  const described = `engine ${engine.version} (API ${engine.apiVersion}) at ${endpoint}`;
  if (!apiAtLeast(engine.apiVersion, MIN_API))
    return fail(
      'engine',
      `${described} is too old: machines need a private cgroup namespace, which needs API ${MIN_API.join('.')} (Docker 20.10) or later`,
      'upgrade the engine (Docker 20.10 or later)',
    );
  return ok('engine', described);
}
