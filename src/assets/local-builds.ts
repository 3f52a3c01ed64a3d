import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import type { Provider } from '../provider/types.js';
import { parseImageRef } from './image-digest.js';

/*
 * Images kiab compiles from source stand for upstream's (registry.k8s.io/kube-apiserver:v1.37.2), but on the
 * engine they carry kiab's own names: another tool on the same engine must not take a local build for the
 * release, and neither must `kiab assets pull`. The archive kiab keeps names each image as upstream does,
 * because that is the name the machines import it under and kubeadm and the manifests ask for.
 */

/** The engine's name for kiab's build of `ref`: kiab/build/REGISTRY/REPOSITORY:TAG (a name of kiab's own stays). */
export function localBuildName(ref: string): string {
  if (ref.startsWith('kiab/')) return ref;
  const { registry, repository, tag } = parseImageRef(ref);
  return `kiab/build/${registry}/${repository}:${tag}`;
}

/** `repo:tag` without a tag, as the `repositories` file of a saved archive keys it. */
const repositoryOf = (ref: string): string => ref.slice(0, ref.lastIndexOf(':'));

/**
 * Writes a `docker save` stream to `path` with the image it holds under `from` named `to`: the two files that
 * name it (manifest.json's RepoTags and the legacy `repositories` index) change, every layer passes through.
 */
export async function writeRenamedArchive(source: Readable, from: string, to: string, path: string): Promise<void> {
  const input = extract();
  const output = pack();
  const rename = (name: string, text: string): string => {
    if (name === 'manifest.json') {
      const manifest = JSON.parse(text) as Array<{ RepoTags?: string[] | null }>;
      for (const entry of manifest) entry.RepoTags = entry.RepoTags?.map((tag) => (tag === from ? to : tag)) ?? null;
      return JSON.stringify(manifest);
    }
    const repositories = JSON.parse(text) as Record<string, Record<string, string>>;
    const tags = repositories[repositoryOf(from)];
    if (tags) {
      delete repositories[repositoryOf(from)];
      repositories[repositoryOf(to)] = { [to.slice(to.lastIndexOf(':') + 1)]: Object.values(tags)[0]! };
    }
    return JSON.stringify(repositories);
  };
  input.on('entry', (header, stream, next) => {
    if (header.name !== 'manifest.json' && header.name !== 'repositories') {
      stream.pipe(output.entry(header, next));
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      const content = Buffer.from(rename(header.name, Buffer.concat(chunks).toString('utf8')));
      output.entry({ ...header, size: content.length }, content, next);
    });
  });
  input.on('finish', () => output.finalize());
  // A failure on either side ends the other, so neither waits forever.
  input.on('error', (error) => output.destroy(error));
  output.on('error', (error) => input.destroy(error));
  await Promise.all([pipeline(source, input), pipeline(output, createWriteStream(path))]);
}

/** Saves kiab's build of `ref` (under its local name on the engine) into `path`, named as upstream names it. */
export async function saveLocalBuild(provider: Provider, ref: string, path: string): Promise<void> {
  const local = localBuildName(ref);
  await writeRenamedArchive(await provider.saveImages([local]), local, ref, path);
}
