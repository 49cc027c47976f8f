// Chosen targets of the targeted attacks (PGD, APGD-T, FAB-T with a target per
// point, as torchattacks offers): the least likely class of each clean point, or
// a random class other than the label.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { attackFrame, checkBatch, checkSeed } from './attack.js';

export const TARGET_CHOICES = ['least-likely', 'random'] as const;
export type TargetChoice = (typeof TARGET_CHOICES)[number];

/**
 * One target class per point of (x, y), int64 [N]: 'least-likely' the class of
 * the lowest clean logit (torchattacks' set_mode_targeted_least_likely),
 * 'random' a class drawn uniformly among the others than y (seeded).
 * Batches of `batchSize` points keep memory bounded.
 */
export function chooseTargets(
  model: Module,
  x: Tensor,
  y: Tensor,
  how: TargetChoice,
  o: { seed?: number; batchSize?: number } = {},
): Tensor {
  const who = 'chooseTargets';
  checkBatch(x, y, who);
  checkSeed(o.seed, who);
  if (!(TARGET_CHOICES as readonly string[]).includes(how))
    throw new Error(`${who}: expected ${TARGET_CHOICES.map((c) => `'${c}'`).join(' or ')}, got '${String(how)}'`);
  const batchSize = o.batchSize ?? 250;
  const device = model.parameters()[0]?.device ?? 'cpu';
  return attackFrame([model], o.seed, () => {
    const parts: Tensor[] = [];
    for (let start = 0; start < x.shape[0]!; start += batchSize) {
      const rows = Math.min(batchSize, x.shape[0]! - start);
      const logits = torch.noGrad(() => model.forward(x.narrow(0, start, rows).to(device))).to('cpu');
      const classes = logits.shape[1]!;
      if (how === 'least-likely') parts.push(logits.argmin(1));
      else {
        // y + 1 + uniform{0, ..., classes - 2} (mod classes): every class but y, equally likely.
        const shift = torch.randint(0, classes - 1, [rows]);
        parts.push(y.narrow(0, start, rows).to('cpu').add(shift).add(1).remainder(classes));
      }
    }
    return parts.length === 0 ? torch.zeros([0], { dtype: 'int64' }) : torch.cat(parts, 0);
  });
}
