import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

/** The file kiab writes to: $KUBECONFIG's first entry, else ~/.kube/config (kubectl's rule). */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = env.KUBECONFIG?.split(delimiter).find((entry) => entry.trim() !== '');
  return first ?? join(homedir(), '.kube', 'config');
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

/** Writes atomically and with mode 0600: a kubeconfig holds credentials. */
async function writeKubeconfig(path: string, document: KubeconfigDocument): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.kiab-${process.pid}.tmp`;
  await writeFile(temporary, stringify(document), { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** Merges the entries of `addition` into the file, replacing same-named ones and leaving the rest alone. */
export async function mergeKubeconfig(path: string, addition: KubeconfigDocument, options: { switchContext: boolean }): Promise<void> {
  const current = (await readKubeconfig(path)) ?? { apiVersion: 'v1', kind: 'Config' };
  const merged: KubeconfigDocument = { ...current, apiVersion: current.apiVersion ?? 'v1', kind: current.kind ?? 'Config' };
  for (const section of ['clusters', 'users', 'contexts'] as const) {
    const incoming = (addition[section] ?? []) as Named[];
    const names = new Set(incoming.map((entry) => entry.name));
    merged[section] = [...((current[section] ?? []) as Named[]).filter((entry) => !names.has(entry.name)), ...incoming] as never;
  }
  if (options.switchContext && addition['current-context']) merged['current-context'] = addition['current-context'];
  else if (!merged['current-context'] && addition['current-context']) merged['current-context'] = addition['current-context'];
  await writeKubeconfig(path, merged);
}

/** Removes the named cluster, user and context entries; returns whether anything was removed. */
export async function removeKubeconfigEntries(path: string, names: { cluster: string; user: string; context: string }): Promise<boolean> {
  const current = await readKubeconfig(path);
  if (!current) return false;
  const before = JSON.stringify(current);
  const next: KubeconfigDocument = {
    ...current,
    clusters: (current.clusters ?? []).filter((entry) => entry.name !== names.cluster),
    users: (current.users ?? []).filter((entry) => entry.name !== names.user),
    contexts: (current.contexts ?? []).filter((entry) => entry.name !== names.context),
  };
  if (next['current-context'] === names.context) next['current-context'] = '';
  if (JSON.stringify(next) === before) return false;
  await writeKubeconfig(path, next);
  return true;
}
