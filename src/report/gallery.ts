// The gallery of adversarial examples: each as clean image, perturbation and
// adversarial image, written as PNG with pngjs. Images are upscaled by pixel
// replication (28x28 would be a thumbnail, and smoothing would invent detail);
// the perturbation is amplified to fill the grey range, since at eps = 8/255 it
// would otherwise be invisible. gallerySvg lays a few out with their labels for
// the README's gallery.png.
import { PNG } from 'pngjs';
import type { Example, Image } from './examples.js';

/** Upscaled images are at least this many pixels on their longer side. */
const TARGET_SIZE = 96;

export interface GalleryItem {
  example: Example;
  trueName: string;
  cleanName: string;
  adversarialName: string;
  /** PNG files. */
  clean: Buffer;
  perturbation: Buffer;
  adversarial: Buffer;
  /** How much the perturbation was multiplied by to be visible; null when the images are equal. */
  amplification: number | null;
  /** Largest absolute pixel change (the L-infinity size of the perturbation). */
  linf: number;
  /** Side of the upscaled PNGs in pixels. */
  width: number;
  height: number;
}

export const upscaleFactor = (im: Image): number => Math.max(1, Math.ceil(TARGET_SIZE / Math.max(im.height, im.width)));

/** An image as an RGB PNG, each pixel repeated `scale` x `scale` times. */
export function encodePng(im: Image, scale = 1): Buffer {
  const width = im.width * scale;
  const height = im.height * scale;
  const png = new PNG({ width, height });
  const plane = im.height * im.width;
  const byte = (v: number): number => Math.round(255 * Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)));
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < width; x++) {
      const source = sy * im.width + Math.floor(x / scale);
      const at = 4 * (y * width + x);
      for (let c = 0; c < 3; c++) png.data[at + c] = byte(im.data[(im.channels === 1 ? 0 : c) * plane + source]!);
      png.data[at + 3] = 255;
    }
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** adversarial - clean, shown around mid grey and amplified so the largest change reaches black or white. */
export function perturbation(clean: Image, adversarial: Image): { image: Image; amplification: number | null; linf: number } {
  const data = new Float32Array(clean.data.length);
  let linf = 0;
  for (let i = 0; i < data.length; i++) linf = Math.max(linf, Math.abs(adversarial.data[i]! - clean.data[i]!));
  const amplification = linf > 0 ? 0.5 / linf : null;
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + (adversarial.data[i]! - clean.data[i]!) * (amplification ?? 0);
  return { image: { ...clean, data }, amplification, linf };
}

export function galleryItems(examples: Example[], classNames: string[] | null): GalleryItem[] {
  const name = (k: number): string => classNames?.[k] ?? `class ${k}`;
  return examples.map((example) => {
    const scale = upscaleFactor(example.clean);
    const delta = perturbation(example.clean, example.adversarial);
    return {
      example,
      trueName: name(example.label),
      cleanName: name(example.cleanPrediction),
      adversarialName: name(example.adversarialPrediction),
      clean: encodePng(example.clean, scale),
      perturbation: encodePng(delta.image, scale),
      adversarial: encodePng(example.adversarial, scale),
      amplification: delta.amplification,
      linf: delta.linf,
      width: example.clean.width * scale,
      height: example.clean.height * scale,
    };
  });
}

export const dataUri = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;

const xml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A labelled grid of up to `limit` examples as SVG, to render as gallery.png. */
export function gallerySvg(items: GalleryItem[], title: string, limit = 8, perRow = 2): string {
  const shown = items.slice(0, limit);
  const gap = 6;
  const pad = 16;
  const tile = Math.max(...shown.map((s) => Math.max(s.width, s.height)));
  const cellWidth = 3 * tile + 2 * gap;
  const cellHeight = 16 + tile + 40; // column heads, tiles, two caption lines
  const columns = Math.min(perRow, shown.length);
  const rows = Math.ceil(shown.length / perRow);
  const width = 2 * pad + columns * cellWidth + (columns - 1) * 3 * gap;
  const height = pad + 28 + rows * (cellHeight + 2 * gap) + pad;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${pad}" y="${pad + 14}" font-family="sans-serif" font-size="16" font-weight="bold" fill="#222">${xml(title)}</text>`,
  ];
  shown.forEach((item, i) => {
    const x0 = pad + (i % perRow) * (cellWidth + 3 * gap);
    const y0 = pad + 28 + Math.floor(i / perRow) * (cellHeight + 2 * gap);
    const heads = ['clean', item.amplification ? `perturbation ×${item.amplification.toFixed(1)}` : 'perturbation (none)', 'adversarial'];
    [item.clean, item.perturbation, item.adversarial].forEach((png, k) => {
      const x = x0 + k * (tile + gap);
      parts.push(`<text x="${x}" y="${y0 + 11}" font-family="sans-serif" font-size="11" fill="#555">${xml(heads[k]!)}</text>`);
      parts.push(
        `<image x="${x}" y="${y0 + 16}" width="${item.width}" height="${item.height}" image-rendering="optimizeSpeed" xlink:href="${dataUri(png)}"/>`,
      );
    });
    const captionY = y0 + 16 + tile + 15;
    parts.push(
      `<text x="${x0}" y="${captionY}" font-family="sans-serif" font-size="12" fill="#222">${xml(`true: ${item.trueName} → predicted: ${item.adversarialName}`)}</text>`,
    );
    parts.push(
      `<text x="${x0}" y="${captionY + 16}" font-family="sans-serif" font-size="11" fill="#555">${xml(`by ${item.example.attack} · point #${item.example.index}`)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
