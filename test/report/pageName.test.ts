// A report page written under its own name keeps the files next to it: its
// PNG charts are named after the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport } from '../../src/report/index.js';
import { tempDir } from '../helpers/tempDir.js';
import { makeRun } from './fixtures.js';

test('--out DIR/page.html names its charts page-*.png and leaves curves.png and gallery.png in DIR alone', async () => {
  const run = makeRun({ epochs: 2, examples: 2 });
  const dir = tempDir();
  for (const name of ['curves.png', 'gallery.png', 'eps-sweep.png']) writeFileSync(join(dir, name), `mine: ${name}`);
  const files = await buildReport([run], { out: join(dir, 'page.html') });
  for (const name of ['curves.png', 'gallery.png', 'eps-sweep.png']) assert.equal(readFileSync(join(dir, name), 'utf8'), `mine: ${name}`);
  assert.ok(files.pngs.length >= 2, files.pngs.join(', '));
  for (const png of files.pngs) {
    assert.match(png, /[/\\]page-[a-z-]+\.png$/);
    assert.ok(existsSync(png));
  }
  assert.ok(files.pngs.some((p) => p.endsWith('page-curves.png')) && files.pngs.some((p) => p.endsWith('page-gallery.png')));
  const html = readFileSync(files.html, 'utf8');
  assert.match(html, /page-curves\.png/);
});
