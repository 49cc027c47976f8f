// AutoAttack (Croce & Hein 2020): APGD-CE, APGD-T, FAB-T and Square run by the
// worst-case protocol (still-robust points only, each from the clean points),
// with the reference's checks reported as warnings.
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import * as torch from '../engine/torch.js';
import { classCount, type Norm } from './common.js';
import { apgd, apgdTargeted } from './apgd.js';
import { fabTargeted } from './fab.js';
import { square } from './square.js';
import { classCountWarnings } from './checks.js';
import { fraction, worstCase, type NamedAttack, type WorstCaseOptions, type WorstCaseResult } from './worstCase.js';

export const AUTOATTACK_COMPONENTS = ['apgd-ce', 'apgd-dlr', 'apgd-t', 'fab-t', 'square'] as const;
export type AutoAttackComponent = (typeof AUTOATTACK_COMPONENTS)[number];
/** The standard version, in the order the reference runs it. */
export const STANDARD_AUTOATTACK: AutoAttackComponent[] = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];

export interface AutoAttackSuiteOptions {
  norm: Norm;
  epsilon: number;
  /** 'standard': the four attacks of the reference with its budgets; 'custom': the `attacks` given, same budgets. */
  version?: 'standard' | 'custom';
  attacks?: readonly AutoAttackComponent[];
  /** Targets of APGD-T and FAB-T (9 in the standard version), capped at classes - 1. */
  targets?: number;
  /** Square's query budget (5000 in the standard version). */
  queries?: number;
}

export interface AutoAttackOptions extends AutoAttackSuiteOptions, Partial<Pick<WorstCaseOptions, 'batchSize' | 'device' | 'keepAdversarial' | 'onProgress' | 'onAttackDone' | 'onWarning'>> {
  /** Recorded with the result; the same seed gives the same result (default 0). */
  seed?: number;
  /** A state file: progress is saved there after every batch, and a run with the same settings resumes from it. */
  statePath?: string;
}

export interface AutoAttackResult extends WorstCaseResult {
  cleanAccuracy: number;
  robustAccuracy: number;
}

function componentsOf(o: AutoAttackSuiteOptions): readonly AutoAttackComponent[] {
  const version = o.version ?? 'standard';
  if (version === 'standard') {
    if (o.attacks !== undefined) throw new Error("autoAttack: 'attacks' are chosen by the standard version; use version 'custom' to pick them");
    return STANDARD_AUTOATTACK;
  }
  if (version !== 'custom') throw new Error(`autoAttack: version must be 'standard' or 'custom', got '${String(version)}'`);
  if (!o.attacks || o.attacks.length === 0) throw new Error(`autoAttack: version 'custom' needs attacks, some of ${AUTOATTACK_COMPONENTS.join(', ')}`);
  for (const a of o.attacks) if (!AUTOATTACK_COMPONENTS.includes(a)) throw new Error(`autoAttack: unknown attack '${a}'; known: ${AUTOATTACK_COMPONENTS.join(', ')}`);
  return o.attacks;
}

/**
 * The attacks of an AutoAttack version as the protocol runs them, for a model
 * with `classes` classes, and the warnings about what the class count rules out
 * (attacks it rules out are left out, never run on a meaningless loss).
 */
export function autoAttackSuite(o: AutoAttackSuiteOptions, classes: number): { attacks: NamedAttack[]; warnings: string[] } {
  const names = componentsOf(o);
  const targets = o.targets ?? 9;
  const warnings = classCountWarnings(classes, names, targets);
  const usable = names.filter((name) => !(name === 'apgd-dlr' && classes < 3) && !(name === 'apgd-t' && classes < 4));
  const { norm, epsilon } = o;
  const shared = { norm, epsilon, steps: 100, restarts: 1 };
  const make = (name: AutoAttackComponent): NamedAttack['run'] => {
    switch (name) {
      case 'apgd-ce':
        return (m, x, y, warn) => apgd(m, x, y, { ...shared, loss: 'ce', onWarning: warn });
      case 'apgd-dlr':
        return (m, x, y, warn) => apgd(m, x, y, { ...shared, loss: 'dlr', onWarning: warn });
      case 'apgd-t':
        return (m, x, y, warn) => apgdTargeted(m, x, y, { ...shared, targets, onWarning: warn });
      case 'fab-t':
        return (m, x, y) => fabTargeted(m, x, y, { ...shared, targets });
      case 'square':
        return (m, x, y) => square(m, x, y, { norm, epsilon, queries: o.queries ?? 5000, restarts: 1 });
    }
  };
  return { attacks: usable.map((name) => ({ name, run: make(name) })), warnings };
}

/** A stable description of what decides an AutoAttack result, to tell whether a state file belongs to this run. */
function stateKey(o: AutoAttackOptions, x: Tensor, y: Tensor, model: Module): string {
  const fingerprint = (t: Tensor): string => torch.tidy(() => t.double().sum().item().toPrecision(12));
  const weights = torch.tidy(() => model.parameters().reduce((s, p) => s + p.double().abs().sum().item(), 0).toPrecision(12));
  return JSON.stringify({ attacks: componentsOf(o), norm: o.norm, epsilon: o.epsilon, seed: o.seed ?? 0, n: x.shape[0], x: fingerprint(x), y: fingerprint(y), weights });
}

/**
 * Robust accuracy of `model` on (x, y) under AutoAttack: the per-point worst
 * case over the suite, logged after every attack. The model runs in eval mode
 * and gets its mode back; the caller's random stream is left as it was.
 */
export function autoAttack(model: Module, x: Tensor, y: Tensor, o: AutoAttackOptions): AutoAttackResult {
  const suite = autoAttackSuite(o, classCount(model, x));
  for (const w of suite.warnings) o.onWarning?.(w);
  const result = worstCase(model, x, y, suite.attacks, {
    batchSize: o.batchSize ?? 250,
    seed: o.seed ?? 0,
    device: o.device,
    threatModel: { norm: o.norm, epsilon: o.epsilon },
    checks: true,
    state: o.statePath ? { path: o.statePath, key: stateKey(o, x, y, model) } : undefined,
    keepAdversarial: o.keepAdversarial,
    onProgress: o.onProgress,
    onAttackDone: o.onAttackDone,
    onWarning: o.onWarning,
  });
  return { ...result, warnings: [...suite.warnings, ...result.warnings], cleanAccuracy: fraction(result.cleanCorrect), robustAccuracy: fraction(result.robust) };
}
