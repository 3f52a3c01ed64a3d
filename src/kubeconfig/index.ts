import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { withLockFile } from '../lock.js';

/** The files kubectl reads, in order: $KUBECONFIG's entries, else ~/.kube/config. */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((entry) => entry.trim() !== '');
  return listed.length > 0 ? [...new Set(listed)] : [join(homedir(), '.kube', 'config')];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Where kubectl puts a new entry: the only file, else the first that exists, else the last one listed. */
export async function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const files = kubeconfigFiles(env);
  if (files.length === 1) return files[0]!;
  for (const file of files) if (await exists(file)) return file;
  return files[files.length - 1]!;
}

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigDocument {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Array<Named & { context?: { cluster?: string; user?: string } }>;
  'current-context'?: string;
  [key: string]: unknown;
}

/** A kubeconfig of one cluster and one user (named `userName`, else `name`), and the context `name` joining them. */
export function singleKubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>, userName = name): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name: userName, user }],
    contexts: [{ name, context: { cluster: name, user: userName } }],
    'current-context': name,
  });
}

const SECTIONS = ['clusters', 'users', 'contexts'] as const;

async function readKubeconfig(path: string): Promise<KubeconfigDocument | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return (parse(text) as KubeconfigDocument | null) ?? {};
}

/** A symlinked kubeconfig stays a symlink: kiab writes the file it points to. */
async function resolved(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/**
 * Runs a read-modify-write of one kubeconfig under kubectl's own lock file (`FILE.lock`), so concurrent
 * writers (`kiab up a` and `kiab up b`, or kubectl) lose no entry.
 */
async function updateKubeconfig<T>(
  path: string,
  change: (current: KubeconfigDocument | undefined) => { next: KubeconfigDocument; result: T } | undefined,
): Promise<T | undefined> {
  const target = await resolved(path);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  return withLockFile(
    `${target}.lock`,
    async () => {
      const changed = change(await readKubeconfig(target));
      if (!changed) return undefined;
      await writeKubeconfig(target, changed.next);
      return changed.result;
    },
    { timeoutMs: 30_000, what: target },
  );
}

/** Writes atomically and with mode 0600 (a kubeconfig holds credentials), through a temp file created exclusively beside it. */
async function writeKubeconfig(path: string, document: KubeconfigDocument): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.kiab.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(stringify(document));
  } finally {
    await handle.close();
  }
  try {
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Merges the entries of `addition` into the file, replacing same-named ones and leaving the rest alone. */
export async function mergeKubeconfig(path: string, addition: KubeconfigDocument, options: { switchContext: boolean }): Promise<void> {
  await updateKubeconfig(path, (found) => {
    const current = found ?? { apiVersion: 'v1', kind: 'Config' };
    const merged: KubeconfigDocument = { ...current, apiVersion: current.apiVersion ?? 'v1', kind: current.kind ?? 'Config' };
    for (const section of SECTIONS) {
      const incoming = (addition[section] ?? []) as Named[];
      const names = new Set(incoming.map((entry) => entry.name));
      merged[section] = [...((current[section] ?? []) as Named[]).filter((entry) => !names.has(entry.name)), ...incoming] as never;
    }
    if (options.switchContext && addition['current-context']) merged['current-context'] = addition['current-context'];
    else if (!merged['current-context'] && addition['current-context']) merged['current-context'] = addition['current-context'];
    return { next: merged, result: undefined };
  });
}

/**
 * Merges into the user's kubeconfig the way kubectl does with several files: into the file that already
 * holds one of the entries, else the default file. Resolves to the file written.
 */
export async function mergeUserKubeconfig(
  addition: KubeconfigDocument,
  options: { switchContext: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const names = SECTIONS.flatMap((section) => ((addition[section] ?? []) as Named[]).map((entry) => `${section}/${entry.name}`));
  let target: string | undefined;
  for (const file of kubeconfigFiles(env)) {
    const document = await readKubeconfig(file).catch(() => undefined);
    if (document && SECTIONS.some((section) => ((document[section] ?? []) as Named[]).some((entry) => names.includes(`${section}/${entry.name}`)))) {
      target = file;
      break;
    }
  }
  target ??= await defaultKubeconfigPath(env);
  await mergeKubeconfig(target, addition, options);
  return target;
}

/** Removes the named cluster, user and context entries; returns whether anything was removed. */
export async function removeKubeconfigEntries(path: string, names: { cluster: string; user: string; context: string }): Promise<boolean> {
  if (!(await exists(path))) return false;
  const removed = await updateKubeconfig(path, (current) => {
    if (!current) return undefined;
    const next: KubeconfigDocument = {
      ...current,
      clusters: (current.clusters ?? []).filter((entry) => entry.name !== names.cluster),
      users: (current.users ?? []).filter((entry) => entry.name !== names.user),
      contexts: (current.contexts ?? []).filter((entry) => entry.name !== names.context),
    };
    if (next['current-context'] === names.context) next['current-context'] = '';
    return JSON.stringify(next) === JSON.stringify(current) ? undefined : { next, result: true };
  });
  return removed === true;
}

/** Removes the entries from every file kubectl reads (an entry may sit in any of them). */
export async function removeUserKubeconfigEntries(
  names: { cluster: string; user: string; context: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  let removed = false;
  for (const file of kubeconfigFiles(env)) if (await removeKubeconfigEntries(file, names)) removed = true;
  return removed;
}
