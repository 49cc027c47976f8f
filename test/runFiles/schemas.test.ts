// The JSON Schemas in docs/schemas/ are the ones the code generates (`npm run schemas`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaFiles } from '../../src/cli/schemas.js';

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
