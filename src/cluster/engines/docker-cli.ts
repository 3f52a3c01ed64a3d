import { isIP } from 'node:net';
import type { EngineSpec } from '../../spec/schema.js';

/* The docker commands kiab names when engines are not one swarm: exact, ready to paste, and without a secret. */

function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The docker CLI pointed at one engine, as a user types it. */
export function dockerAt(engine: EngineSpec): string {
  if (!engine.host.includes('://')) return `docker --context ${shellWord(engine.host)}`;
  if (!engine.tlsCertPath) return `docker -H ${shellWord(engine.host)}`;
  return `DOCKER_CERT_PATH=${shellWord(engine.tlsCertPath)} docker -H ${shellWord(engine.host)} --tlsverify`;
}

/**
 * The address an engine advertises to its swarm: the one kiab reaches it at, when that is an IP address.
 * Otherwise (a socket, a context, a host name) the engine picks its own, as `docker swarm init` does.
 */
export function advertiseAddressOf(engine: EngineSpec): string | undefined {
  if (!/^(tcp|ssh):\/\//.test(engine.host)) return undefined;
  const host = new URL(engine.host).hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : undefined;
}

/** `docker swarm init` prints a join token on success: the command sends that to /dev/null (errors still show). */
export function initCommand(engine: EngineSpec): string {
  const address = advertiseAddressOf(engine);
  return `${dockerAt(engine)} swarm init${address ? ` --advertise-addr ${address}` : ''} >/dev/null`;
}

/**
 * Joins `engine` to the swarm `manager` manages, the token read from the manager as the command runs, so that
 * it is never printed. A manager made by the command before this one has no known address yet: it is read too.
 */
export function joinCommand(engine: EngineSpec, manager: EngineSpec, managerAddress: string | undefined): string {
  const address = managerAddress ?? `"$(${dockerAt(manager)} info --format '{{.Swarm.NodeAddr}}')":2377`;
  return `${dockerAt(engine)} swarm join --token "$(${dockerAt(manager)} swarm join-token -q worker)" ${address}`;
}
