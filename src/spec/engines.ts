import { z } from 'zod';

/* Several engines: where each is, and which machines go where by hand (the rest is placed in cluster/). */

/** A short DNS label, so that an engine's name fits in messages, labels and commands as it is. */
const ENGINE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** What the docker CLI accepts as a context name. */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;

export const engineNameSchema = z
  .string()
  .max(32, 'must be at most 32 characters')
  .regex(ENGINE_NAME, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit');

/** Why a host is not one kiab can reach, or undefined when it is: a unix://, tcp:// or ssh:// address, or a docker context. */
export function engineHostProblem(host: string): string | undefined {
  const wanted = 'must be a unix://, tcp:// or ssh:// address (as DOCKER_HOST is written) or the name of a docker context';
  if (!host.includes('://')) {
    if (host === 'default') return 'is the docker CLI\'s "default" context, which is no address: write the address itself, such as unix:///var/run/docker.sock';
    return CONTEXT_NAME.test(host) ? undefined : wanted;
  }
  if (host.startsWith('unix://'))
    return host.startsWith('unix:///') && host.length > 'unix:///'.length
      ? undefined
      : 'must be unix:// with an absolute path, such as unix:///var/run/docker.sock';
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    return wanted;
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'ssh:') return wanted;
  if (!url.hostname) return `must name a host, such as ${url.protocol}//10.0.0.2`;
  if (url.pathname !== '' && url.pathname !== '/') return `must be ${url.protocol}//HOST[:PORT] with no path`;
  return undefined;
}

export const engineSchema = z
  .object({
    name: engineNameSchema.describe('A name for the engine, as nodes[].engine and box.engine refer to it'),
    host: z
      .string()
      .superRefine((host, context) => {
        const problem = engineHostProblem(host);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .describe('Where the engine is, written as DOCKER_HOST is (unix:///var/run/docker.sock, tcp://10.0.0.2:2376, ssh://user@host) or a docker context name'),
    tlsCertPath: z
      .string()
      .refine((path) => path.startsWith('/'), 'must be an absolute path')
      .optional()
      .describe(
        'For a tcp:// host: the folder with ca.pem, cert.pem and key.pem; the engine is then reached over TLS (as DOCKER_TLS_VERIFY and DOCKER_CERT_PATH do)',
      ),
  })
  .strict()
  .superRefine((engine, context) => {
    if (engine.tlsCertPath !== undefined && !engine.host.startsWith('tcp://'))
      context.addIssue({ code: 'custom', path: ['tlsCertPath'], message: 'is only for a tcp:// host (a docker context keeps its own TLS files)' });
  });

export const enginesSchema = z
  .array(engineSchema)
  .min(2, 'must list at least two engines; for one, point DOCKER_HOST or a docker context at it and leave engines out')
  .describe(
    'The Docker engines the cluster spreads over, the first holding the box unless box.engine says otherwise; all must be members of one Docker Swarm (see `kiab engines join`). Without it the cluster is on the one engine DOCKER_HOST or the docker context names',
  );

/** `box.engine` and `nodes[].engine`: which listed engine gets that machine. */
export const engineRefSchema = engineNameSchema.describe('The engine (a name of engines[]) that runs it, instead of the one kiab picks');

export const boxSchema = z
  .object({ engine: engineRefSchema.describe('The engine (a name of engines[]) that runs the box and publishes its ports (default: the first)') })
  .partial()
  .strict()
  .describe('The box, when the cluster spreads over several engines');

export type EngineSpec = z.output<typeof engineSchema>;

interface Placed {
  engines?: Array<{ name: string; host: string }>;
  nodes?: Array<{ engine?: string | undefined }>;
  box?: { engine?: string | undefined };
}

/** Issues of the fields that refer to engines: names given twice, and names engines does not list. */
export function engineReferenceIssues(spec: Placed): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const names = (spec.engines ?? []).map((engine) => engine.name);
  names.forEach((name, index) => {
    const first = names.indexOf(name);
    if (first < index) issues.push({ path: ['engines', index, 'name'], message: `"${name}" is given twice (engines.${first} has it)` });
  });
  // One engine listed twice would put two machines of one cluster on it under two names.
  const hosts = (spec.engines ?? []).map((engine) => engine.host);
  hosts.forEach((host, index) => {
    const first = hosts.indexOf(host);
    if (first < index) issues.push({ path: ['engines', index, 'host'], message: `"${host}" is given twice (engines.${first} has it): list each engine once` });
  });
  const unknown = (name: string): string =>
    spec.engines === undefined
      ? `"${name}" is no engine: there is no engines list (add one, or leave this out)`
      : `"${name}" is not an engine of engines (${names.join(', ')})`;
  (spec.nodes ?? []).forEach((node, index) => {
    if (node.engine !== undefined && !names.includes(node.engine)) issues.push({ path: ['nodes', index, 'engine'], message: unknown(node.engine) });
  });
  if (spec.box?.engine !== undefined && !names.includes(spec.box.engine)) issues.push({ path: ['box', 'engine'], message: unknown(spec.box.engine) });
  return issues;
}
