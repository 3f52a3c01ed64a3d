import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseSpecSource } from '../../src/spec/load.js';

/**
 * Every example in the README and the guides runs in a test or says it does not: a fenced block is either
 * marked on the line before it (`<!-- not run in tests ... -->`, or the tour's `<!-- tour: ... -->`, which
 * test/e2e/readme-tour.test.ts runs), or it is a kiab.yaml example, which must load as a cluster spec here.
 * docs/reference/ is generated from the source and holds no examples.
 */
const ROOT = new URL('../../', import.meta.url);
const MARKED = /^<!-- (not run in tests|tour:)/;

interface Block {
  file: string;
  line: number;
  language: string;
  text: string;
  marked: boolean;
}

function blocksOf(file: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(\S*)$/.exec(lines[index]!);
    if (!open) continue;
    const end = lines.findIndex((line, at) => at > index && line.startsWith('```'));
    assert.ok(end > index, `${file}:${index + 1}: a fenced block is not closed`);
    blocks.push({ file, line: index + 1, language: open[1]!, text: lines.slice(index + 1, end).join('\n'), marked: MARKED.test(lines[index - 1] ?? '') });
    index = end;
  }
  return blocks;
}

async function guides(): Promise<string[]> {
  const docs = (await readdir(new URL('docs/', ROOT))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
  return ['README.md', ...docs.sort()];
}

describe('examples in the README and docs/', () => {
  it('every fenced block is a checked kiab.yaml or is marked as not run', async () => {
    const unmarked: string[] = [];
    for (const file of await guides()) {
      for (const block of blocksOf(file, await readFile(new URL(file, ROOT), 'utf8'))) {
        if (block.marked) continue;
        if (block.language !== 'yaml') unmarked.push(`${block.file}:${block.line}`);
      }
    }
    assert.deepEqual(unmarked, [], 'mark these blocks with <!-- not run in tests --> on the line before, or make a test run them');
  });

  it('every unmarked yaml block loads as a kiab.yaml', async () => {
    let checked = 0;
    for (const file of await guides()) {
      for (const block of blocksOf(file, await readFile(new URL(file, ROOT), 'utf8'))) {
        if (block.marked || block.language !== 'yaml') continue;
        assert.doesNotThrow(() => parseSpecSource({ file: `${block.file}:${block.line}`, fileText: block.text }), `${block.file}:${block.line}`);
        checked++;
      }
    }
    assert.ok(checked > 0, 'no kiab.yaml example found in docs/');
  });

  it('a wrong field in an example would be caught', () => {
    assert.throws(() => parseSpecSource({ fileText: 'name: dev\nworkerz: 2\n' }));
  });
});
