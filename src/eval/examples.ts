// A few adversarial examples of an evaluation, kept for reports: the clean
// image, the adversarial one, the labels and predictions, and the attack that won.
import { dirname, relative } from 'node:path';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { inEvalMode } from '../attacks/common.js';
import { saveSafetensors } from '../io/safetensors.js';
import type { ExampleSet } from './runFiles.js';

export type { ExampleSet };

/**
 * Saves up to `count` of the points an attack broke (the first ones, in order)
 * next to `jsonPath` and describes them; null when none was broken.
 * `indices` maps positions in images to data set indices.
 */
export function saveExamples(
  model: Module,
  images: Tensor,
  adversarial: Tensor,
  labels: number[],
  indices: number[],
  brokenBy: (string | null)[],
  count: number,
  jsonPath: string,
): ExampleSet | null {
  const picked = brokenBy.flatMap((b, i) => (b === null ? [] : [i])).slice(0, count);
  if (picked.length === 0) return null;
  const file = jsonPath.replace(/\.json$/i, '') + '-examples.safetensors';
  return inEvalMode([model], () =>
    torch.tidy(() => {
      const rows = torch.tensor(BigInt64Array.from(picked, BigInt));
      const clean = images.indexSelect(0, rows).float().contiguous();
      const adv = adversarial.indexSelect(0, rows).float().contiguous();
      const predict = (t: Tensor): number[] =>
        torch.noGrad(() => model.forward(t.to(model.parameters()[0]?.device ?? 'cpu')).argmax(1)).toNumbers();
      saveSafetensors(file, { clean, adversarial: adv });
      return {
        file: relative(dirname(jsonPath), file),
        index: picked.map((i) => indices[i]!),
        label: picked.map((i) => labels[i]!),
        cleanPrediction: predict(clean),
        adversarialPrediction: predict(adv),
        attack: picked.map((i) => brokenBy[i]!),
      };
    }),
  );
}
