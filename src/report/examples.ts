// The adversarial examples an evaluation kept (eval.json's `examples`): the
// clean and adversarial images from the safetensors file, with their labels,
// predictions and the attack that won, as plain arrays for the gallery.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as torch from '../engine/torch.js';
import { loadSafetensors } from '../io/safetensors.js';
import { ReportError } from './errors.js';
import type { EvalResult } from './schema.js';

/** One image, channel-major [C, H, W], values in [0, 1]. */
export interface Image {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

export interface Example {
  /** Index of the point in the data set split. */
  index: number;
  label: number;
  cleanPrediction: number;
  adversarialPrediction: number;
  attack: string;
  clean: Image;
  adversarial: Image;
}

export type ExampleLoad = { examples: Example[]; file: string } | { examples: null; missing: string };

/** The examples of an evaluation, or why there are none. */
export function loadExamples(ev: EvalResult): ExampleLoad {
  const refs = ev.examples;
  if (!refs)
    return { examples: null, missing: `${ev.path} keeps no example images (none was broken, or it was written before examples were kept)` };
  const file = resolve(dirname(ev.path), refs.file);
  if (!existsSync(file)) return { examples: null, missing: `${file}, named by ${ev.path}, does not exist` };
  const { clean, adversarial } = readImages(file);
  if (clean.length !== refs.index.length) {
    throw new ReportError(`${file}: holds ${clean.length} examples but ${ev.path} describes ${refs.index.length}`);
  }
  const examples = refs.index.map((index, i) => ({
    index,
    label: refs.label[i]!,
    cleanPrediction: refs.cleanPrediction[i]!,
    adversarialPrediction: refs.adversarialPrediction[i]!,
    attack: refs.attack[i]!,
    clean: clean[i]!,
    adversarial: adversarial[i]!,
  }));
  return { examples, file };
}

function readImages(file: string): { clean: Image[]; adversarial: Image[] } {
  return torch.tidy(() => {
    let tensors;
    try {
      tensors = loadSafetensors(file);
    } catch (err) {
      throw new ReportError(`cannot read the example images: ${(err as Error).message}`);
    }
    const split = (name: 'clean' | 'adversarial'): Image[] => {
      const t = tensors[name];
      if (!t) throw new ReportError(`${file}: has no tensor '${name}' (found: ${Object.keys(tensors).join(', ') || 'none'})`);
      const shape = t.shape;
      if (shape.length !== 4 || (shape[1] !== 1 && shape[1] !== 3)) {
        throw new ReportError(`${file}: tensor '${name}' should be [k, C, H, W] with C = 1 or 3, found [${shape.join(', ')}]`);
      }
      const [k, channels, height, width] = shape as [number, number, number, number];
      const all = t.toFloat32Array();
      const size = channels * height * width;
      return Array.from({ length: k }, (_, i) => ({ channels, height, width, data: all.slice(i * size, (i + 1) * size) }));
    };
    const clean = split('clean');
    const adversarial = split('adversarial');
    const shapeOf = (im: Image | undefined): string => (im ? `${im.channels}x${im.height}x${im.width}` : 'none');
    if (clean.length !== adversarial.length || shapeOf(clean[0]) !== shapeOf(adversarial[0])) {
      throw new ReportError(`${file}: tensors 'clean' and 'adversarial' differ in shape`);
    }
    return { clean, adversarial };
  });
}
