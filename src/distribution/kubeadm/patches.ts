import jsonPatch, { type Operation } from 'fast-json-patch';
import mergePatch from 'json-merge-patch';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../../errors.js';

/** One kubeadm (or kubelet, kube-proxy) configuration document as kiab writes it. */
export type KubeadmDocument = Record<string, unknown> & { apiVersion: string; kind: string };

/** A merge patch as the user wrote it, with the spec field it came from for messages. */
export interface MergePatchSource {
  field: string;
  text: string;
}

export interface Json6902Source {
  field: string;
  group: string;
  version: string;
  kind: string;
  patch: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Flag lists of kubeadm v1beta4 (`[{name, value}]`), which a patch may also write as a map (v1beta3's form). */
const ARG_LISTS = new Set(['extraArgs', 'kubeletExtraArgs']);

function argList(value: unknown): Array<{ name: string; value: string }> {
  if (Array.isArray(value)) return value as Array<{ name: string; value: string }>;
  if (isObject(value)) return Object.entries(value).map(([name, arg]) => ({ name, value: String(arg) }));
  return [];
}

/**
 * Merges `patch` into `target` (both changed in place) the way kubeadm's own strategic merge treats its
 * documents: flag lists merge by flag name and certificate SANs add up; what remains is an RFC 7386 merge
 * patch (maps merge, a null removes, anything else replaces), applied by the library.
 */
function mergeKubeadm(target: Json, patch: Json): Json {
  for (const [key, value] of Object.entries(patch)) {
    if (ARG_LISTS.has(key)) {
      const merged = argList(target[key]);
      for (const arg of argList(value)) {
        const at = merged.findIndex((existing) => existing.name === arg.name);
        if (at >= 0) merged[at] = arg;
        else merged.push(arg);
      }
      target[key] = merged;
      delete patch[key];
    } else if (key === 'certSANs' && Array.isArray(value)) {
      target[key] = [...new Set([...((target[key] as unknown[] | undefined) ?? []), ...value])];
      delete patch[key];
    } else if (isObject(value) && isObject(target[key])) {
      mergeKubeadm(target[key] as Json, value);
    }
  }
  return mergePatch.apply(target, patch) as Json;
}

function parseYaml(text: string, field: string): unknown[] {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) throw new UsageError(`${field}: not a YAML document`);
  return documents.map((document) => {
    const error = document.errors[0];
    if (error) throw new UsageError(`${field}: invalid YAML: ${error.message.split('\n')[0]}`);
    return document.toJS() as unknown;
  });
}

/** `patchesOf` parsed: each document of each patch with the kind (and apiVersion, if it names one) it applies to. */
function mergePatches(sources: MergePatchSource[]): Array<{ field: string; kind: string; apiVersion?: string; body: Json }> {
  return sources.flatMap((source) =>
    parseYaml(source.text, source.field).map((document) => {
      if (!isObject(document) || typeof document.kind !== 'string')
        throw new UsageError(`${source.field}: a patch names the kind of the document it changes (kind: ClusterConfiguration, ...)`);
      const { kind, apiVersion, ...body } = document;
      return { field: source.field, kind, ...(typeof apiVersion === 'string' ? { apiVersion } : {}), body };
    }),
  );
}

/**
 * The documents with the patches applied in order: merge patches match documents by kind (and apiVersion
 * when the patch names one); JSON 6902 patches by group, version and kind. Returns which patch fields
 * matched a document, so a patch that changes nothing anywhere can be refused rather than dropped.
 */
export function patchDocuments(
  documents: KubeadmDocument[],
  merge: MergePatchSource[],
  json6902: Json6902Source[],
): { documents: KubeadmDocument[]; matched: Set<string> } {
  const matched = new Set<string>();
  let patched = documents.map((document) => structuredClone(document));
  for (const patch of mergePatches(merge)) {
    patched = patched.map((document) => {
      if (document.kind !== patch.kind || (patch.apiVersion !== undefined && patch.apiVersion !== document.apiVersion)) return document;
      matched.add(patch.field);
      return mergeKubeadm(document, structuredClone(patch.body)) as KubeadmDocument;
    });
  }
  for (const patch of json6902) {
    const apiVersion = patch.group ? `${patch.group}/${patch.version}` : patch.version;
    const operations = parseYaml(patch.patch, `${patch.field}.patch`)[0];
    if (!Array.isArray(operations)) throw new UsageError(`${patch.field}.patch: must be a list of RFC 6902 operations`);
    patched = patched.map((document) => {
      if (document.kind !== patch.kind || document.apiVersion !== apiVersion) return document;
      matched.add(patch.field);
      try {
        return jsonPatch.applyPatch(document, operations as Operation[], true, false).newDocument;
      } catch (error) {
        throw new UsageError(`${patch.field}.patch: ${(error as Error).message.split('\n')[0]}`);
      }
    });
  }
  return { documents: patched, matched };
}
