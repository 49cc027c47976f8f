// Accuracy of a model on a set of points: clean, then under a list of attacks
// with per-point worst-case bookkeeping (a point stays robust only while every
// attack so far failed on it; each attack runs on the still-robust points only).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import type { Dataset } from '../data/index.js';
import type { Models } from '../train/method.js';
import { attackByName, type NamedAttack } from './attackNames.js';

export interface EvaluationOptions {
  epsilon: number;
  norm: 'linf' | 'l2';
  batchSize: number;
  device: string;
  seed: number;
}

export interface AttackOutcome {
  name: string;
  /** Robust accuracy over all points after this attack (cumulative worst case). */
  robustAccuracy: number;
  seconds: number;
}

export interface PointResults {
  cleanCorrect: boolean[];
  /** Still correct after every attack run (equals cleanCorrect when none ran). */
  robust: boolean[];
  attacks: AttackOutcome[];
}

const fraction = (flags: boolean[]): number => (flags.length === 0 ? 0 : flags.filter(Boolean).length / flags.length);

function cleanPass(model: Module, images: Tensor, labels: Tensor, o: EvaluationOptions): boolean[] {
  const out: boolean[] = [];
  const n = images.shape[0]!;
  for (let start = 0; start < n; start += o.batchSize) {
    const size = Math.min(o.batchSize, n - start);
    torch.tidy(() => {
      const x = images.narrow(0, start, size).to(o.device);
      const y = labels.narrow(0, start, size).to(o.device);
      const correct = torch.noGrad(() => model.forward(x).argmax(1).eq(y));
      out.push(...Array.from(correct.toUint8Array(), Boolean));
    });
  }
  return out;
}

/** Marks robust[i] false where the attack fools the model on point i (only robust points are attacked). */
function attackPass(model: Module, images: Tensor, labels: Tensor, robust: boolean[], attack: NamedAttack, o: EvaluationOptions): void {
  const todo = robust.flatMap((r, i) => (r ? [i] : []));
  for (let start = 0; start < todo.length; start += o.batchSize) {
    const ids = todo.slice(start, start + o.batchSize);
    torch.tidy(() => {
      const index = torch.tensor(BigInt64Array.from(ids, BigInt));
      const x = images.indexSelect(0, index).to(o.device);
      const y = labels.indexSelect(0, index).to(o.device);
      const xAdv = attack.run(model, x, y);
      const stillCorrect = torch.noGrad(() => model.forward(xAdv).argmax(1).eq(y)).toUint8Array();
      ids.forEach((id, k) => {
        if (!stillCorrect[k]) robust[id] = false;
      });
    });
  }
}

/**
 * Evaluates model on images/labels: a clean pass, then each named attack
 * ('fgsm', 'pgd20', 'cw20', ...) in order. The model is in eval mode throughout
 * and gets its mode back; randomness is seeded from o.seed and the global
 * random stream is restored afterwards, so evaluating never changes training.
 */
export function evaluatePoints(model: Module, images: Tensor, labels: Tensor, attackNames: string[], o: EvaluationOptions, onAttackDone?: (a: AttackOutcome) => void): PointResults {
  const attacks = attackNames.map((name) => attackByName(name, o));
  const wasTraining = model.training;
  const savedRng = torch.keep(torch.getRngState());
  model.eval();
  try {
    torch.manualSeed(o.seed);
    const cleanCorrect = cleanPass(model, images, labels, o);
    const robust = [...cleanCorrect];
    const outcomes: AttackOutcome[] = [];
    for (const attack of attacks) {
      const started = performance.now();
      attackPass(model, images, labels, robust, attack, o);
      const outcome = { name: attack.name, robustAccuracy: fraction(robust), seconds: (performance.now() - started) / 1000 };
      outcomes.push(outcome);
      onAttackDone?.(outcome);
    }
    return { cleanCorrect, robust, attacks: outcomes };
  } finally {
    torch.setRngState(savedRng);
    savedRng.dispose();
    model.train(wasTraining);
  }
}

export interface ModelAccuracy {
  clean: number;
  robust: number | null;
}

/** The per-epoch check of the trainer: clean and PGD-`steps` accuracy of the target and guidance models. */
export function evaluateModel(models: Models, data: Dataset, o: EvaluationOptions & { steps: number }): { target: ModelAccuracy; guidance?: ModelAccuracy; points: number } {
  const attacks = o.steps > 0 ? [`pgd${o.steps}`] : [];
  const summarise = (m: Module): ModelAccuracy => {
    const r = evaluatePoints(m, data.images, data.labels, attacks, o);
    return { clean: fraction(r.cleanCorrect), robust: attacks.length > 0 ? fraction(r.robust) : null };
  };
  return {
    target: summarise(models.target),
    guidance: models.guidance ? summarise(models.guidance) : undefined,
    points: data.images.shape[0]!,
  };
}

export { fraction };
