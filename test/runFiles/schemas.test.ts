// The JSON Schemas in docs/schemas/ are the ones the code generates (`npm run schemas`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaFiles } from '../../src/cli/schemas.js';
import { DEFAULT_BETA, D2R_DEFAULT_WEIGHTS } from '../../src/methods/defaults.js';

const DOCS = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'docs', 'schemas');

test('docs/schemas holds exactly the generated schemas, unchanged', () => {
  const generated = schemaFiles();
  assert.deepEqual(readdirSync(DOCS).sort(), Object.keys(generated).sort(), 'run `npm run schemas` and commit docs/schemas');
  for (const [file, text] of Object.entries(generated)) {
    assert.ok(existsSync(join(DOCS, file)));
    assert.equal(readFileSync(join(DOCS, file), 'utf8'), text, `docs/schemas/${file} is stale: run \`npm run schemas\``);
  }
});

test('each schema documents an object with typed properties', () => {
  for (const [file, text] of Object.entries(schemaFiles())) {
    const schema = JSON.parse(text) as { title?: string; description?: string; properties?: object; anyOf?: object[] };
    assert.ok(schema.title && schema.description, file);
    assert.ok(schema.properties ?? schema.anyOf, `${file} has no properties`);
  }
});

test('docs/run-files.md links every published schema and states the method defaults as the code has them', () => {
  const doc = readFileSync(join(DOCS, '..', 'run-files.md'), 'utf8');
  for (const file of Object.keys(schemaFiles()))
    assert.ok(doc.includes(`(schemas/${file})`), `docs/run-files.md does not link schemas/${file}`);
  assert.ok(doc.includes(`\`DEFAULT_BETA\` (${DEFAULT_BETA})`), 'docs/run-files.md states another DEFAULT_BETA');
  const { mse, clean, adv } = D2R_DEFAULT_WEIGHTS;
  assert.ok(doc.includes(`\`D2R_DEFAULT_WEIGHTS\` (${mse}, ${clean}, ${adv})`), 'docs/run-files.md states other D2R_DEFAULT_WEIGHTS');
});
