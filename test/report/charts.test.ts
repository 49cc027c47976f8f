import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { loadRun } from '../../src/report/index.js';
import { curveRows, curvesSpec, sweepSpec } from '../../src/report/charts.js';
import { uniqueLabels } from '../../src/report/load.js';
import {
  importChartLibraries,
  inlineSvg,
  MissingChartPackagesError,
  namespaceIds,
  renderSvg,
  svgToPng,
  type PackageImporter,
} from '../../src/report/render.js';
import { tempDir } from '../helpers/tempDir.js';
import { makeRun } from './fixtures.js';

/** Vega labels every plotted point with its data (for screen readers): "epoch: 2; accuracy: 56%; model: target". */
const pointLabels = (svg: string): string[] =>
  [...svg.matchAll(/<path aria-label="([^"]*)"[^>]*aria-roledescription="point"/g)].map((m) => m[1]!);
const lineCount = (svg: string): number => (svg.match(/aria-roledescription="line mark"/g) ?? []).length;
const legendLabels = (svg: string): string[] => [...svg.matchAll(/role-legend-label[^]*?<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

test('training curves of one two-model run: loss, and clean and robust accuracy of target and guidance', async () => {
  const run = loadRun(makeRun({ guidance: true, epochs: 4, eval: false, sweep: false }));
  const { loss, accuracy } = curveRows([run]);
  assert.deepEqual(
    loss.map((r) => r.epoch),
    [1, 2, 3, 4],
  );
  // Epoch 1 has no robust accuracy (null in metrics.jsonl): 4 + 3 points per model.
  assert.equal(accuracy.filter((r) => r.series === 'target (smallcnn)').length, 7);
  assert.equal(accuracy.filter((r) => r.series === 'guidance (smallcnn)').length, 8);

  const svg = await renderSvg(curvesSpec([run])!);
  assert.match(svg, /^<svg[^>]*width="\d+"/);
  assert.match(svg, />Training loss</);
  assert.match(svg, />Test accuracy</);
  const labels = legendLabels(svg);
  for (const name of ['target (smallcnn)', 'guidance (smallcnn)', 'clean', 'robust'])
    assert.ok(labels.includes(name), `legend lacks ${name}: ${labels.join(', ')}`);
  // One line per series: the loss, and clean and robust accuracy of both models.
  assert.equal(lineCount(svg), 5);
  const points = pointLabels(svg);
  assert.equal(points.length, loss.length + accuracy.length);
  for (const e of run.metrics.epochs) {
    const label = points.find((p) => p.startsWith(`epoch: ${e.epoch}; loss: `));
    assert.ok(label, `no loss point of epoch ${e.epoch}`);
    assert.ok(Math.abs(Number(label.split('loss: ')[1]) - e.trainLoss!) < 1e-2, label); // Vega rounds the labels
  }
  assert.equal(points.filter((p) => p.endsWith('model: guidance (smallcnn)')).length, 8);
  assert.ok(
    points.includes(`epoch: 4; accuracy: ${Math.round(100 * run.metrics.epochs[3]!.testCleanAccuracy!)}%; model: target (smallcnn)`),
  );
  const dashes = [...svg.matchAll(/aria-roledescription="line mark"[^>]*stroke-dasharray="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(dashes.filter((d) => d !== '1,0').length, 2, `robust lines are dashed, clean ones solid: ${dashes.join(' ')}`);
});

test('several runs: one colour per run, the same in both panels; sweep lines per run', async () => {
  const parent = tempDir();
  const runs = [loadRun(makeRun({ name: 'alpha', guidance: true }, parent)), loadRun(makeRun({ name: 'beta', offset: 0.1 }, parent))];
  uniqueLabels(runs);
  const curves = await renderSvg(curvesSpec(runs)!);
  const labels = legendLabels(curves);
  for (const name of ['alpha', 'alpha · guidance', 'beta']) assert.ok(labels.includes(name), `legend lacks ${name}: ${labels.join(', ')}`);
  assert.equal(labels.filter((l) => l === 'beta').length, 1, 'one merged colour legend');

  assert.equal(lineCount(curves), 2 + 3 * 2, 'loss per run; clean and robust per model');

  const sweep = await renderSvg(sweepSpec(runs)!);
  assert.deepEqual(legendLabels(sweep).sort(), ['alpha', 'beta']);
  assert.match(sweep, />epsilon \(linf\)</);
  assert.equal(lineCount(sweep), 2);
  // The fixture's sweep: robust accuracy 0.8 - offset - 3 eps at eps 0, 0.05, 0.1, 0.2.
  const points = pointLabels(sweep);
  assert.equal(points.length, 8);
  assert.ok(points.includes('epsilon (linf): 0.05; robust accuracy: 65%; run: alpha'), points.join(' | '));
  assert.ok(points.includes('epsilon (linf): 0.1; robust accuracy: 40%; run: beta'), points.join(' | '));
});

test('no chart without data', () => {
  const run = loadRun(makeRun({ epochs: 0, eval: false, sweep: false }));
  assert.equal(curvesSpec([run]), null);
  assert.equal(sweepSpec([run]), null);
});

test('chart PNGs are valid and twice the size of the SVG', async () => {
  const run = loadRun(makeRun({ eval: false, sweep: true }));
  const svg = await renderSvg(sweepSpec([run])!);
  const [, w, h] = /^<svg[^>]*width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
  const png = PNG.sync.read(await svgToPng(svg));
  assert.equal(png.width, 2 * w!);
  assert.equal(png.height, 2 * h!);
  // Not blank: some pixels are neither white nor transparent.
  let inked = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 200) inked++;
  assert.ok(inked > 1000, `only ${inked} dark pixels`);
});

test('inline SVGs get their own ids and lose the XML namespaces', () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="2"><clipPath id="clip1"/><g clip-path="url(#clip1)"/><use xlink:href="#clip1"/></svg>';
  assert.equal(namespaceIds(svg, 'a-'), svg.replace(/clip1/g, 'a-clip1'));
  const inline = inlineSvg(svg, 'b-');
  assert.ok(!inline.includes('http'), inline);
  assert.match(inline, /^<svg width="2"><clipPath id="b-clip1"\/>/);
});

test('a report without the optional chart packages names what to install', async () => {
  const missingVega: PackageImporter = async (name) => {
    if (name === 'vega' || name === 'vega-lite')
      throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    return import(name);
  };
  await assert.rejects(importChartLibraries(missingVega), (e: Error) => {
    assert.ok(e instanceof MissingChartPackagesError);
    assert.deepEqual([...(e as MissingChartPackagesError).missing].sort(), ['vega', 'vega-lite']);
    assert.match(e.message, /not installed: vega, vega-lite .*npm install vega vega-lite @resvg\/resvg-js/);
    return true;
  });
  // Any other failure of a package is not hidden behind "not installed".
  const broken: PackageImporter = async () => {
    throw new SyntaxError('Unexpected token');
  };
  await assert.rejects(importChartLibraries(broken), SyntaxError);
  const all = await importChartLibraries((name) => import(name));
  assert.equal(typeof all.vega.View, 'function');
});
