import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { encodePng, galleryItems, gallerySvg, perturbation, upscaleFactor } from '../../src/report/gallery.js';
import type { Example, Image } from '../../src/report/examples.js';
import { svgToPng } from '../../src/report/render.js';

const image = (channels: number, height: number, width: number, f: (c: number, y: number, x: number) => number): Image => {
  const data = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = f(c, y, x);
  return { channels, height, width, data };
};

const pixel = (png: PNG, x: number, y: number): number[] => [...png.data.subarray(4 * (y * png.width + x), 4 * (y * png.width + x) + 4)];

test('a grey image becomes an RGB PNG, each pixel repeated scale x scale times', () => {
  const im = image(1, 2, 3, (_, y, x) => (y * 3 + x) / 5);
  const png = PNG.sync.read(encodePng(im, 4));
  assert.deepEqual([png.width, png.height], [12, 8]);
  assert.deepEqual(pixel(png, 0, 0), [0, 0, 0, 255]);
  assert.deepEqual(pixel(png, 3, 3), [0, 0, 0, 255]);
  assert.deepEqual(pixel(png, 4, 0), [51, 51, 51, 255]);
  assert.deepEqual(pixel(png, 11, 7), [255, 255, 255, 255]);
});

test('colour images keep their channels; values outside [0, 1] are clipped', () => {
  const im = image(3, 1, 2, (c, _, x) => (x === 0 ? [1, 0.5, 0][c]! : [2, -1, Number.NaN][c]!));
  const png = PNG.sync.read(encodePng(im));
  assert.deepEqual(pixel(png, 0, 0), [255, 128, 0, 255]);
  assert.deepEqual(pixel(png, 1, 0), [255, 0, 0, 255]);
});

test('images are upscaled to about 96 pixels', () => {
  assert.equal(upscaleFactor(image(1, 28, 28, () => 0)), 4);
  assert.equal(upscaleFactor(image(3, 32, 32, () => 0)), 3);
  assert.equal(upscaleFactor(image(3, 224, 224, () => 0)), 1);
});

test('the perturbation is centred on grey and amplified to the full range', () => {
  const clean = image(1, 1, 3, () => 0.5);
  const adv = image(1, 1, 3, (_, __, x) => 0.5 + [-0.02, 0, 0.01][x]!);
  const { image: delta, amplification, linf } = perturbation(clean, adv);
  assert.ok(Math.abs(linf - 0.02) < 1e-6);
  assert.ok(Math.abs(amplification! - 25) < 1e-3);
  assert.deepEqual(
    Array.from(delta.data, (v) => Number(v.toFixed(3))),
    [0, 0.5, 0.75],
  );
  assert.equal(perturbation(clean, clean).amplification, null);
});

test('gallery items and the labelled gallery PNG', async () => {
  const clean = image(1, 28, 28, (_, y, x) => (x + y) / 56);
  const adversarial = image(1, 28, 28, (_, y, x) => (x + y) / 56 + ((x + y) % 2 ? 0.03 : -0.03));
  const examples: Example[] = [0, 1, 2].map((i) => ({
    index: 10 + i,
    label: i,
    cleanPrediction: i,
    adversarialPrediction: 9 - i,
    attack: 'apgd-ce',
    clean,
    adversarial,
  }));
  const items = galleryItems(examples, ['zero', 'one', 'two', '3', '4', '5', '6', '7', 'eight', 'nine <&>']);
  assert.equal(items.length, 3);
  assert.deepEqual([items[0]!.trueName, items[0]!.adversarialName, items[1]!.adversarialName], ['zero', 'nine <&>', 'eight']);
  for (const key of ['clean', 'perturbation', 'adversarial'] as const) {
    const png = PNG.sync.read(items[0]![key]);
    assert.deepEqual([png.width, png.height], [112, 112]);
  }
  const svg = gallerySvg(items, 'Examples & more');
  assert.match(svg, /Examples &#38; more/);
  assert.match(svg, /nine &#60;&#38;&#62;/);
  const png = PNG.sync.read(await svgToPng(svg, 1));
  assert.ok(png.width > 3 * 112 && png.height > 2 * 112, `${png.width}x${png.height}`);
});
