import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { buildReport, GALLERY_LIMIT } from '../../src/report/index.js';
import { d2rAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { makeRun } from './fixtures.js';
import * as torch from '../../src/engine/torch.js';
import { saveSafetensors } from '../../src/io/safetensors.js';

/** Everything the page would load: src, href and CSS url() targets, other than in-page anchors and data: URIs. */
function externalReferences(html: string): string[] {
  const refs = [
    ...html.matchAll(/\b(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?([^"'\s>]+)/gi),
    ...html.matchAll(/url\(\s*["']?([^"')]+)/gi),
    ...html.matchAll(/@import\s+["']?([^"';]+)/gi),
  ].map((m) => m[1]!);
  return refs.filter((r) => !r.startsWith('#') && !r.startsWith('data:'));
}

function assertSelfContained(html: string): void {
  assert.deepEqual(externalReferences(html), []);
  assert.doesNotMatch(html, /https?:\/\//i, 'no web address anywhere in the page');
  assert.doesNotMatch(html, /<script|<link|<iframe|<object|<embed/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; img-src data:/);
}

function assertPng(path: string): PNG {
  const png = PNG.sync.read(readFileSync(path));
  assert.ok(png.width > 100 && png.height > 100, `${path}: ${png.width}x${png.height}`);
  return png;
}

test('one run: index.html in RUN/report with all sections, and the PNG charts next to it', async () => {
  const dir = makeRun({ guidance: true, epochs: 3, examples: 4 });
  const files = await buildReport([dir], { now: new Date('2026-02-03T04:05:06Z') });
  assert.equal(files.html, join(dir, 'report', 'index.html'));
  assert.deepEqual(files.pngs.map((p) => p.slice(join(dir, 'report').length + 1)).sort(), ['curves.png', 'eps-sweep.png', 'gallery.png']);
  for (const p of files.pngs) assertPng(p);
  const html = readFileSync(files.html, 'utf8');
  assertSelfContained(html);
  assert.match(html, /<title>d2r report: run-a<\/title>/);
  assert.match(html, /Generated 2026-02-03T04:05:06.000Z/);
  // Configuration, seed and the exact commands.
  assert.ok(html.includes(`<pre><code>d2r train --method d2r --epochs 3 --seed 7 --out ${dir}</code></pre>`));
  assert.ok(html.includes(`d2r eval --checkpoint ${dir} --attacks autoattack --n 20`));
  assert.match(html, /<th>seed<\/th><td>7<\/td>/);
  // Charts inline, the attack table with every attack and the warnings, the gallery.
  assert.equal((html.match(/<figure class="chart" data-chart="(curves|eps-sweep)"><svg/g) ?? []).length, 2);
  for (const a of ['apgd-ce', 'apgd-t', 'fab-t', 'square'])
    assert.match(html, new RegExp(`<td>${a}</td><td class="num">\\d+\\.\\d\\d%</td>`));
  assert.match(html, /<li>apgd-t: the model has 10 classes, so 9 target classes are used<\/li>/);
  assert.equal((html.match(/<figure class="example">/g) ?? []).length, 4);
  assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 12);
  assert.match(html, /true: <strong>T-shirt\/top<\/strong>/);
  assert.doesNotMatch(html, /class="missing"/);
});

test("an eval.json of other weights than the run's latest checkpoint is flagged, its numbers marked", async () => {
  const dir = makeRun({ checkpoint: true, epochs: 2 });
  const current = readFileSync((await buildReport([dir])).html, 'utf8');
  assert.doesNotMatch(current, /other weights/);
  // The run trained on after its evaluation: the checkpoint's weights changed.
  torch.tidy(() => saveSafetensors(join(dir, 'checkpoints', 'epoch-0002', 'target.safetensors'), { 'fc.weight': torch.zeros([2, 2]) }));
  const stale = readFileSync((await buildReport([dir])).html, 'utf8');
  assert.match(
    stale,
    /<h2>Accuracy under attack \(AutoAttack\)<\/h2>\n<ul class="warnings"><li>eval\.json evaluated other weights \(sha256 [0-9a-f]{12}…\) than the run&#39;s latest checkpoint \(checkpoints\/epoch-0002\/target\.safetensors, sha256 [0-9a-f]{12}…\): its numbers are not this run&#39;s as it stands; rerun d2r eval<\/li>/,
  );
  // Beside another run, its row in the runs table marks the numbers, and only its own.
  const other = makeRun({ name: 'run-b', offset: 0.1 }, join(dir, '..'));
  const both = readFileSync((await buildReport([dir, other], { out: join(dir, '..', 'both') })).html, 'utf8');
  assert.deepEqual(both.match(/<td class="num">[\d.]+% \(other weights\)<\/td>/g), [
    '<td class="num">80.00% (other weights)</td>',
    '<td class="num">35.00% (other weights)</td>',
  ]);
  assert.match(both, /<li>run-a: eval\.json evaluated other weights/);
});

test('missing files: each section says what is missing and which command produces it', async () => {
  const dir = makeRun({ eval: false, sweep: false, epochs: 2 });
  const out = join(tempDir(), 'elsewhere');
  const files = await buildReport([dir], { out, title: 'Mine <&>' });
  assert.equal(files.html, join(out, 'index.html'));
  assert.deepEqual(files.pngs, [join(out, 'curves.png')]);
  const html = readFileSync(files.html, 'utf8');
  assertSelfContained(html);
  assert.match(html, /<title>Mine &lt;&amp;&gt;<\/title>/);
  assert.ok(
    html.includes(
      `no <code>eps-sweep.json</code> in the run directory. Produce it with <code>d2r eval --checkpoint ${dir} --eps-sweep 0,0.025,0.05,0.1,0.15,0.2</code>`,
    ),
  );
  assert.ok(
    html.includes(
      `no <code>eval.json</code> in the run directory. Produce it with <code>d2r eval --checkpoint ${dir} --attacks autoattack</code>`,
    ),
  );
  assert.equal((html.match(/class="missing"/g) ?? []).length, 3, 'sweep, attacks, gallery');
});

test('several runs: one line per run, one column per run, labels made unique and escaped', async () => {
  const root = tempDir();
  const a = makeRun({ name: 'same', guidance: true }, join(root, 'x'));
  const b = makeRun({ name: 'same', offset: 0.1, channels: 3, size: 32, examples: 2 }, join(root, 'y'));
  const c = makeRun({ name: 'odd <b>&"name"', eval: false, sweep: false }, root);
  const files = await buildReport([a, b, c], { cwd: root });
  assert.equal(files.html, join(root, 'report', 'index.html'));
  assert.deepEqual(files.pngs.map((p) => p.slice(root.length + 8)).sort(), [
    'curves.png',
    'eps-sweep.png',
    'gallery-x-same.png',
    'gallery-y-same.png',
  ]);
  for (const p of files.pngs) assertPng(p);
  const html = readFileSync(files.html, 'utf8');
  assertSelfContained(html);
  assert.doesNotMatch(html, /<b>&"name"/, 'the run name is escaped everywhere, charts included');
  assert.match(html, /<title>d2r comparison: x\/same vs y\/same vs odd &lt;b&gt;&amp;&quot;name&quot;<\/title>/);
  // The attack table: a column for each run with an evaluation.
  assert.match(html, /<thead><tr><th>after<\/th><th>x\/same<\/th><th>y\/same<\/th><\/tr><\/thead>/);
  assert.match(html, /<tr><td>apgd-ce<\/td><td class="num">50\.00%<\/td><td class="num">40\.00%<\/td><\/tr>/);
  // The summary: a row per run; the settings that differ.
  assert.equal((html.match(/<tr><td>(x\/same|y\/same|odd &lt;b&gt;&amp;&quot;name&quot;)<\/td><td>(d2r|pgd-at)<\/td>/g) ?? []).length, 3);
  assert.match(html, /<h3>Settings that differ<\/h3>\s*<table><thead><tr><th>setting<\/th>/);
  assert.match(html, /<tr><td>method<\/td><td>d2r<\/td><td>pgd-at<\/td><td>pgd-at<\/td><\/tr>/);
  // Eps sweep: one line per run that has one.
  const sweepSvg = html.slice(html.indexOf('data-chart="eps-sweep"'), html.indexOf('</figure>', html.indexOf('data-chart="eps-sweep"')));
  assert.equal((sweepSvg.match(/aria-roledescription="line mark"/g) ?? []).length, 2);
  // Curves of all three runs.
  const curves = html.slice(html.indexOf('data-chart="curves"'), html.indexOf('</figure>', html.indexOf('data-chart="curves"')));
  // Vega escapes text too (quotes need no escape in text content).
  for (const label of ['x/same', 'y/same', 'x/same · guidance', 'odd &lt;b&gt;&amp;"name"'])
    assert.ok(curves.includes(`>${label}</text>`), `curves legend lacks ${label}`);
  assert.equal((html.match(/<figure class="example">/g) ?? []).length, 5);
});

test('a long gallery shows the first examples and says how many there are', async () => {
  const dir = makeRun({ examples: GALLERY_LIMIT + 3, sweep: false, epochs: 1 });
  const html = readFileSync((await buildReport([dir], { out: join(dir, 'r') })).html, 'utf8');
  assert.equal((html.match(/<figure class="example">/g) ?? []).length, GALLERY_LIMIT);
  assert.ok(html.includes(`The first ${GALLERY_LIMIT} of the ${GALLERY_LIMIT + 3} examples the evaluation kept.`));
});

/** Runs the CLI; several at once, since each start loads libtorch (about 1.5 s). */
function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = d2rAsync(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((done) => child.on('close', (status) => done({ status, stdout, stderr })));
}

test('d2r report prints the absolute path; bad runs fail with the file and line', async () => {
  const dir = makeRun({ eval: false, sweep: false, epochs: 2 });
  const broken = makeRun({ eval: false, sweep: false, epochs: 2 });
  writeFileSync(join(broken, 'eval.json'), '{"cleanAccuracy": 0.5,\n "attacks": [}\n');
  const empty = join(tempDir(), 'empty');
  mkdirSync(empty);
  const [ok, usage, bad, notRun] = await Promise.all([
    run(['report', dir, '--out', join(dir, 'r.html')]),
    run(['report']),
    run(['report', broken]),
    run(['report', empty]),
  ]);

  assert.equal(ok.stderr, '');
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, `${join(dir, 'r.html')}\n`);
  assert.ok(existsSync(join(dir, 'r-curves.png')));

  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /d2r report: give at least one run directory/);

  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, `d2r report: ${join(broken, 'eval.json')} line 2, column 14: malformed JSON: expected a value, found "}"\n`);
  assert.ok(!existsSync(join(broken, 'report')), 'nothing written');

  assert.equal(notRun.status, 1);
  assert.match(notRun.stderr, /empty: no config\.json there; is it a run directory written by d2r train\?/);
});
