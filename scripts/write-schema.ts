// Writes schema/kiab.schema.json from the zod spec, so editors complete kiab.yaml.
// With --check it only verifies that the committed file is current (CI runs that).
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { clusterSpecSchema } from '../src/spec/schema.js';

const path = new URL('../schema/kiab.schema.json', import.meta.url);
const schema = {
  $id: 'https://kiab.dev/schema/kiab.schema.json',
  title: 'kiab.yaml',
  ...z.toJSONSchema(clusterSpecSchema, { io: 'input', unrepresentable: 'any' }),
};
const text = `${JSON.stringify(schema, null, 2)}\n`;
if (process.argv.includes('--check')) {
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current !== text) {
    console.error('schema/kiab.schema.json is out of date: run `npm run schema`');
    process.exit(1);
  }
} else {
  await writeFile(path, text);
  console.log('wrote schema/kiab.schema.json');
}
