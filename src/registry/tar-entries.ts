import { open } from 'node:fs/promises';
import { KiabError } from '../errors.js';

/** Where the content of one file of a tar archive lies in it. */
export interface TarEntry {
  offset: number;
  size: number;
}

const BLOCK = 512;

/** A NUL-terminated field of a tar header. */
function field(header: Buffer, start: number, end: number): string {
  const bytes = header.subarray(start, end);
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
}

/** A size field: octal digits, or (first byte with its high bit set) a big-endian binary number for large files. */
function sizeOf(header: Buffer): number {
  const bytes = header.subarray(124, 136);
  if (bytes[0]! & 0x80) return bytes.subarray(1).reduce((total, byte) => total * 256 + byte, bytes[0]! & 0x7f);
  const octal = field(header, 124, 136).trim();
  return octal ? parseInt(octal, 8) : 0;
}

/** The `path` record of a PAX extended header, when it has one. */
function paxPath(records: string): string | undefined {
  for (const match of records.matchAll(/^\d+ ([^=]+)=(.*)$/gm)) if (match[1] === 'path') return match[2];
  return undefined;
}

/**
 * The regular files of a tar archive by path, read from its headers alone: each file's content is skipped, not
 * read, so a gigabyte archive is indexed in a few hundred reads. Long names as Go's archive/tar and GNU tar
 * write them (PAX and `L` headers) are followed.
 */
export async function tarEntries(path: string): Promise<Map<string, TarEntry>> {
  const file = await open(path, 'r');
  try {
    const entries = new Map<string, TarEntry>();
    const header = Buffer.alloc(BLOCK);
    let position = 0;
    let longName: string | undefined;
    for (;;) {
      const { bytesRead } = await file.read(header, 0, BLOCK, position);
      if (bytesRead < BLOCK || header.every((byte) => byte === 0)) break;
      if (field(header, 257, 262) !== 'ustar' && !/^[0-7 \0]+$/.test(header.subarray(124, 136).toString('latin1')))
        throw new KiabError(`${path} is not a tar archive (no tar header at byte ${position})`);
      const size = sizeOf(header);
      const type = String.fromCharCode(header[156]!);
      const content = position + BLOCK;
      if (type === 'x' || type === 'L') {
        const data = Buffer.alloc(size);
        await file.read(data, 0, size, content);
        longName = type === 'L' ? field(data, 0, data.length) : (paxPath(data.toString('utf8')) ?? longName);
      } else if (type !== 'g') {
        const prefix = field(header, 257, 262) === 'ustar' ? field(header, 345, 500) : '';
        const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
        longName = undefined;
        if (type === '0' || type === '\0') entries.set(name.replace(/^\.\//, ''), { offset: content, size });
      }
      position = content + Math.ceil(size / BLOCK) * BLOCK;
    }
    return entries;
  } finally {
    await file.close();
  }
}

/** The content of one file of an archive, read whole (a small one: a manifest, an image configuration). */
export async function readEntry(path: string, entry: TarEntry): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const data = Buffer.alloc(entry.size);
    await file.read(data, 0, entry.size, entry.offset);
    return data;
  } finally {
    await file.close();
  }
}
