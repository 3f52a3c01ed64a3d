import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { UsageError } from '../errors.js';
import { clusterSpecSchema, type ClusterSpec, type ClusterSpecInput } from './schema.js';
import { isKindConfig, KindFieldError, kindPathOf, kindToSpec } from './kind.js';

export interface SpecSource {
  /** Path of the kiab.yaml the file part came from, for error messages. */
  file?: string;
  fileText?: string;
  /** Values given as flags; they win over the file. */
  flags?: ClusterSpecInput;
  /** Where a kind config's relative mount paths start (default: the process's working directory). */
  cwd?: string;
}

/** A validated spec and which of its fields the user set (dotted paths such as `ports.api`); the rest are defaults. */
export interface LoadedSpec {
  spec: ClusterSpec;
  given: string[];
  /** The file's settings as kiab.yaml input (a kind config translated), before flags and defaults. */
  fromFile: ClusterSpecInput;
}

/** Reads, merges and validates a spec; any problem is a UsageError naming the file, line and field. */
export async function loadSpec(options: { configPath?: string; flags?: ClusterSpecInput }): Promise<LoadedSpec> {
  let fileText: string | undefined;
  if (options.configPath !== undefined) {
    try {
      fileText = await readFile(options.configPath, 'utf8');
    } catch (error) {
      throw new UsageError(`--config: cannot read ${options.configPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  return parseSpecSource({
    ...(options.configPath === undefined ? {} : { file: options.configPath }),
    ...(fileText === undefined ? {} : { fileText }),
    ...(options.flags === undefined ? {} : { flags: options.flags }),
  });
}

export function parseSpec(source: SpecSource): ClusterSpec {
  return parseSpecSource(source).spec;
}

function leafPaths(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) =>
    child !== null && typeof child === 'object' && !Array.isArray(child)
      ? leafPaths(child as Record<string, unknown>, `${prefix}${key}.`)
      : [`${prefix}${key}`],
  );
}

export function parseSpecSource(source: SpecSource): LoadedSpec {
  const file = source.file ?? 'kiab.yaml';
  let fromFile: Record<string, unknown> = {};
  let document: Document | undefined;
  const lineCounter = new LineCounter();
  if (source.fileText !== undefined) {
    document = parseDocument(source.fileText, { lineCounter, prettyErrors: true, uniqueKeys: true });
    const firstError = document.errors[0];
    if (firstError) {
      const position = firstError.linePos?.[0];
      const where = position ? `${file}:${position.line}:${position.col}` : file;
      throw new UsageError(`${where}: invalid YAML: ${firstError.message.split('\n')[0]}`);
    }
    let value: unknown;
    try {
      value = document.toJS();
    } catch (error) {
      // yaml refuses documents whose aliases expand without bound ("billion laughs").
      throw new UsageError(`${file}: invalid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    if (value !== null && value !== undefined) {
      if (typeof value !== 'object' || Array.isArray(value))
        throw new UsageError(`${file}: must be a mapping of settings, not ${Array.isArray(value) ? 'a list' : typeof value}`);
      fromFile = value as Record<string, unknown>;
    }
  }
  const kind = isKindConfig(fromFile);
  if (kind) {
    try {
      fromFile = kindToSpec(fromFile, { cwd: source.cwd ?? process.cwd() }) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof KindFieldError)) throw error;
      throw new UsageError(locate(file, error.path.map(String), error.message, document, lineCounter, true));
    }
  }
  const merged = mergeDeep(fromFile, (source.flags ?? {}) as Record<string, unknown>);
  const result = clusterSpecSchema.safeParse(merged);
  if (result.success) return { spec: result.data, given: leafPaths(merged), fromFile: fromFile as ClusterSpecInput };
  const issue = result.error.issues[0]!;
  throw new UsageError(
    describeIssue(kind ? { ...issue, path: kindPathOf(issue.path as Array<string | number>) } : issue, file, document, lineCounter, source.flags),
  );
}

function describeIssue(
  issue: z.core.$ZodIssue,
  file: string,
  document: Document | undefined,
  lineCounter: LineCounter,
  flags: ClusterSpecInput | undefined,
): string {
  const path = issue.path.map(String);
  const field = path.join('.') || '(root)';
  const message =
    issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}` : issue.message;
  if (flags && hasPath(flags, path)) return `${flagName(path)}: ${message}`;
  if (document)
    return locate(
      file,
      issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path,
      message,
      document,
      lineCounter,
      issue.code === 'unrecognized_keys',
      field,
    );
  return `${flagName(path)}: ${message}`;
}

/** `FILE:LINE:COL: FIELD: MESSAGE`, the line and column those of the field's value (or of its key, for a key refused as such). */
function locate(
  file: string,
  path: string[],
  message: string,
  document: Document | undefined,
  lineCounter: LineCounter,
  atKey: boolean,
  field = path.join('.') || '(root)',
): string {
  const node = document?.getIn(path, true);
  const pair = atKey && document ? findKeyNode(document, path) : undefined;
  const range = (pair ?? (isNode(node) ? node : undefined))?.range;
  if (!range) return `${file}: ${field}: ${message}`;
  const { line, col } = lineCounter.linePos(range[0]);
  return `${file}:${line}:${col}: ${field}: ${message}`;
}

function findKeyNode(document: Document, path: string[]): { range?: [number, number, number] | null } | undefined {
  const parent = path.length > 1 ? document.getIn(path.slice(0, -1), true) : document.contents;
  const items = (parent as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] | null } }> } | null)?.items;
  return items?.find((item) => item.key?.value === path[path.length - 1])?.key;
}

function hasPath(value: unknown, path: string[]): boolean {
  let current: unknown = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in current)) return false;
    current = (current as Record<string, unknown>)[key];
  }
  return true;
}

const FLAG_FOR_FIELD: Record<string, string> = {
  distribution: '--k8s',
  kubernetesVersion: '--k8s-version',
  name: 'NAME',
  'ports.address': '--listen-address',
  'network.lan.parent': '--lan-parent',
  'network.lan.address': '--lan-address',
};

function flagName(path: string[]): string {
  const top = path[0] ?? '';
  return FLAG_FOR_FIELD[path.join('.')] ?? FLAG_FOR_FIELD[top] ?? `--${top.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

function mergeDeep(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    const existing = out[key];
    out[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value) && existing !== null && typeof existing === 'object' && !Array.isArray(existing)
        ? mergeDeep(existing as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
