import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { extract, pack, type Extract } from 'tar-stream';
import { z } from 'zod';
import { AbortedError, KiabError, UsageError } from '../errors.js';
import { assetDir, writeManifest, type AssetManifest } from './cache.js';

/**
 * A kiab asset archive is a tar (plain or gzip) of one cached set: first `kiab-assets.json`, the set's index
 * with every file's size and sha256, then each file under its path in the cache. The index comes first so
 * an import checks every entry as it streams, before anything is written to the cache.
 */
const INDEX = 'kiab-assets.json';
const FORMAT = 'kiab-assets/v1';

/** One path segment as the cache uses them (names, versions): no `..`, no slash, nothing hidden. */
const SEGMENT = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$/;
const RELATIVE_PATH = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]*(\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$/;

const indexSchema = z.object({
  format: z.literal(FORMAT),
  distribution: z.enum(['kubeadm', 'k3s', 'addons', 'conformance']),
  version: z.string().regex(SEGMENT),
  arch: z.enum(['amd64', 'arm64']),
  source: z.enum(['build', 'release', 'import']),
  createdAt: z.string(),
  images: z.record(z.string(), z.string()),
  imageDigests: z.record(z.string(), z.string()).optional(),
  files: z.record(z.string().regex(RELATIVE_PATH), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() })),
});
type ArchiveIndex = z.infer<typeof indexSchema>;

export type ArchiveProgress = (detail: string) => void;

export interface ArchiveFile {
  file: string;
  bytes: number;
  /** Of the archive as written: tell it to the machines that import it (`--sha256`). */
  sha256: string;
}

/** Whether a version or name can be a folder of the cache (a version that is a path could leave it). */
export function isCacheSegment(text: string): boolean {
  return SEGMENT.test(text);
}

/** How an archive named `file` is written (refusing names that say neither): check it before any work. */
export function compressionOf(file: string): 'gzip' | 'none' {
  if (/\.(tar\.gz|tgz)$/.test(file)) return 'gzip';
  if (file.endsWith('.tar')) return 'none';
  throw new UsageError(`FILE: "${file}" must end in .tar or .tar.gz (.tgz)`);
}

/** Passes bytes through, hashing them: the archive's own sha256 without reading it twice. */
function hashing(hash: Hash, onBytes: (count: number) => void = () => undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

const MiB = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

/**
 * Writes a cached set into one archive at `file` (to `file.part`, renamed when complete), hashing every file
 * as it goes: a cache file that no longer matches its manifest stops the export, naming the file.
 */
export async function writeAssetArchive(
  dir: string,
  manifest: AssetManifest,
  file: string,
  onProgress: ArchiveProgress,
  signal?: AbortSignal,
): Promise<ArchiveFile> {
  const compression = compressionOf(file);
  const part = `${file}.part`;
  const names = Object.keys(manifest.files).sort();
  const index: ArchiveIndex = { ...manifest, format: FORMAT, files: {} };
  for (const name of names) index.files[name] = { sha256: manifest.files[name]!.sha256, size: manifest.files[name]!.size };
  const total = names.reduce((sum, name) => sum + manifest.files[name]!.size, 0);
  // Every entry carries the set's time: the same set gives the same archive.
  const mtime = new Date(manifest.createdAt);
  const archiveHash = createHash('sha256');
  let bytes = 0;
  const archive = pack();
  const tap = hashing(archiveHash, (count) => (bytes += count));
  const source = archive as unknown as Readable;
  const written = background(
    compression === 'gzip' ? pipeline(source, createGzip({ level: 1 }), tap, createWriteStream(part)) : pipeline(source, tap, createWriteStream(part)),
  );
  // Waits for an entry to take more, or fails with the file's own error (a full disk) instead of waiting forever.
  const unless = (wait: Promise<void>): Promise<void> => Promise.race([wait, written]);
  try {
    archive.entry({ name: INDEX, mode: 0o644, mtime }, Buffer.from(`${JSON.stringify(index, null, 2)}\n`));
    let done = 0;
    for (const [position, name] of names.entries()) {
      const path = join(dir, name);
      const expected = manifest.files[name]!;
      const info = await stat(path);
      if (info.size !== expected.size) throw new KiabError(`asset ${path} is ${info.size} bytes, its manifest says ${expected.size}; refusing to export it`);
      const entry = archive.entry({ name, size: info.size, mode: info.mode & 0o111 ? 0o755 : 0o644, mtime });
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
        if (signal?.aborted) throw new AbortedError();
        hash.update(chunk as Buffer);
        done += (chunk as Buffer).length;
        if (!entry.write(chunk)) await unless(new Promise<void>((resolve) => entry.once('drain', () => resolve())));
        onProgress(`${name} (${position + 1}/${names.length}), ${MiB(done)}/${MiB(total)} MiB`);
      }
      await unless(new Promise<void>((resolve) => entry.end(() => resolve())));
      const actual = hash.digest('hex');
      if (actual !== expected.sha256)
        throw new KiabError(`asset ${path} does not match its checksum; refusing to export it`, { hint: 'rebuild or re-import the assets' });
    }
    archive.finalize();
    await written;
    await rename(part, file);
    return { file, bytes, sha256: archiveHash.digest('hex') };
  } catch (error) {
    archive.destroy();
    await written.catch(() => undefined);
    await rm(part, { force: true });
    throw error;
  }
}

/**
 * Streams an archive's bytes (gunzipped when they start with gzip's magic) into a tar extractor, hashing them
 * on the way. One pipeline, so a read or gzip error ends it and the extractor with it, never as a stray event.
 */
async function feed(file: string, hash: Hash, entries: Extract): Promise<void> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`FILE: cannot read ${file} (${error.code ?? error.message})`);
  });
  const head = Buffer.alloc(2);
  await handle.read(head, 0, 2, 0).finally(() => handle.close());
  const raw = createReadStream(file, { highWaterMark: 4 << 20 });
  const sink = entries as unknown as NodeJS.WritableStream;
  return head[0] === 0x1f && head[1] === 0x8b ? pipeline(raw, hashing(hash), createGunzip(), sink) : pipeline(raw, hashing(hash), sink);
}

/** Settles with `work`, and keeps its failure from counting as unhandled while nobody awaits it yet. */
function background(work: Promise<void>): Promise<void> {
  work.catch(() => undefined);
  return work;
}

/** Whether a file is a kiab asset archive (its first entry is the index), as opposed to release files. */
export async function isAssetArchive(file: string): Promise<boolean> {
  if (!(await stat(file).catch(() => undefined))?.isFile()) return false;
  const entries = extract();
  background(feed(file, createHash('sha256'), entries));
  try {
    for await (const entry of entries) return entry.header.name === INDEX;
    return false;
  } catch {
    return false; // not a tar at all: a k3s binary, say
  } finally {
    entries.destroy(); // and with it the rest of the pipeline: only the first header was needed
  }
}

async function readIndex(entry: AsyncIterable<unknown> & { header: { name: string; size: number } }, file: string): Promise<ArchiveIndex> {
  if (entry.header.name !== INDEX) throw new KiabError(`${file} is not a kiab asset archive (its first entry is not ${INDEX})`);
  if ((entry.header.size ?? 0) > 1 << 20) throw new KiabError(`${file}: ${INDEX} is too large to be an asset index; refusing the archive`);
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new KiabError(`${file}: ${INDEX} is not JSON; refusing the archive`);
  }
  const result = indexSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new KiabError(`${file}: ${INDEX} is not a valid asset index (${issue?.path.join('.') || 'index'}: ${issue?.message}); refusing the archive`);
  }
  const unlisted = Object.keys(result.data.images).find((name) => !result.data.files[name]);
  if (unlisted) throw new KiabError(`${file}: ${INDEX} names image ${unlisted} but no such file; refusing the archive`);
  return result.data;
}

/** Imports stage here, beside the sets (same filesystem, so the final rename is atomic): `.import-PID-XXXXXX`. */
const STAGING = '.import-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What imports killed outright (SIGKILL, power loss) left behind: hundreds of MB each, so it goes at the next import. */
async function removeAbandoned(assets: string): Promise<void> {
  for (const name of await readdir(assets).catch(() => [])) {
    const pid = name.startsWith(STAGING) ? Number(name.slice(STAGING.length).split('-')[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await rm(join(assets, name), { recursive: true, force: true });
  }
}

/** Moves a complete, checked set into its place in the cache; a set already there is replaced whole, never mixed. */
async function install(staging: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const previous = `${staging}.previous`;
  const had = await rename(target, previous).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  await rename(staging, target);
  if (had) await rm(previous, { recursive: true, force: true });
}

/**
 * Imports an archive into the cache. Every entry is checked against the archive's index while it streams into
 * a folder beside the cache; only a complete archive whose every entry matches (and, when `sha256` is given,
 * whose own checksum matches) is then moved into place with a rename. Anything else is refused with the
 * entry named, and the cache is left as it was.
 */
export async function importAssetArchive(
  file: string,
  root: string,
  options: {
    sha256?: string;
    /** What the user said the archive holds: refused before anything is written when it holds something else. */
    expect?: { distribution?: string; version?: string };
    onProgress: ArchiveProgress;
    signal?: AbortSignal;
  },
): Promise<{ dir: string; manifest: AssetManifest }> {
  await mkdir(join(root, 'assets'), { recursive: true });
  await removeAbandoned(join(root, 'assets'));
  const staging = await mkdtemp(join(root, 'assets', `${STAGING}${process.pid}-`));
  await chmod(staging, 0o755); // it becomes the set's folder, which mkdtemp made private
  const archiveHash = createHash('sha256');
  const entries = extract();
  const fed = background(feed(file, archiveHash, entries));
  // An archive cut short ends the feed with an error but leaves the entry being written waiting for more.
  const cut = background(fed.then(() => new Promise<void>(() => undefined)));
  try {
    let index: ArchiveIndex | undefined;
    const seen = new Set<string>();
    let done = 0;
    for await (const entry of entries) {
      if (options.signal?.aborted) throw new AbortedError();
      if (!index) {
        index = await readIndex(entry, file);
        if (options.expect?.distribution && options.expect.distribution !== index.distribution)
          throw new UsageError(`--k8s: ${file} holds ${index.distribution} assets, not ${options.expect.distribution}`);
        if (options.expect?.version && options.expect.version !== index.version)
          throw new UsageError(`--k8s-version: ${file} holds ${index.distribution} ${index.version}, not ${options.expect.version}`);
        continue;
      }
      const name = entry.header.name;
      const expected = Object.hasOwn(index.files, name) ? index.files[name] : undefined;
      const refuse = (why: string): KiabError => new KiabError(`${file}: entry ${name} ${why}; nothing was imported`);
      if (!expected) throw refuse('is not in the archive index');
      if (seen.has(name)) throw refuse('appears twice');
      if (entry.header.type !== 'file') throw refuse(`is a ${entry.header.type}, not a file`);
      if (entry.header.size !== expected.size) throw refuse(`is ${entry.header.size} bytes, the index says ${expected.size}`);
      seen.add(name);
      const path = join(staging, name);
      await mkdir(dirname(path), { recursive: true });
      const hash = createHash('sha256');
      await Promise.race([
        pipeline(
          entry,
          hashing(hash, (count) => {
            done += count;
            options.onProgress(`${name} (${seen.size}/${Object.keys(index!.files).length}), ${MiB(done)} MiB`);
          }),
          createWriteStream(path),
          // Ctrl-C stops mid-entry too, not only between entries of hundreds of MB.
          options.signal ? { signal: options.signal } : {},
        ),
        cut,
      ]);
      const actual = hash.digest('hex');
      if (actual !== expected.sha256)
        throw refuse(`does not match its sha256 in the index (expected ${expected.sha256.slice(0, 16)}…, got ${actual.slice(0, 16)}…)`);
      await chmod(path, (entry.header.mode ?? 0) & 0o111 ? 0o755 : 0o644);
    }
    await fed;
    if (!index) throw new KiabError(`${file} is empty: not a kiab asset archive`);
    const missing = Object.keys(index.files).find((name) => !seen.has(name));
    if (missing) throw new KiabError(`${file}: entry ${missing} is missing from the archive; nothing was imported`);
    const archiveSha = archiveHash.digest('hex');
    if (options.sha256 && options.sha256.toLowerCase() !== archiveSha) {
      throw new KiabError(`${file} does not match --sha256 (got ${archiveSha}); nothing was imported`);
    }
    const files: AssetManifest['files'] = {};
    for (const [name, description] of Object.entries(index.files)) files[name] = { ...description, mtimeMs: (await stat(join(staging, name))).mtimeMs };
    const manifest: AssetManifest = {
      distribution: index.distribution,
      version: index.version,
      arch: index.arch,
      source: 'import',
      createdAt: new Date().toISOString(),
      images: index.images,
      // The digests a pulled set's images were pinned by travel with it.
      ...(index.imageDigests && Object.keys(index.imageDigests).length ? { imageDigests: index.imageDigests } : {}),
      files,
    };
    await writeManifest(staging, manifest);
    const dir = assetDir(manifest, root);
    await install(staging, dir);
    return { dir, manifest };
  } catch (error) {
    entries.destroy();
    await fed.catch(() => undefined);
    await rm(staging, { recursive: true, force: true });
    if (options.signal?.aborted) throw new AbortedError();
    if (error instanceof KiabError) throw error;
    throw new KiabError(`${file} is not a readable kiab asset archive (${(error as Error).message})`, { cause: error });
  }
}
