// AutoAttack (Croce & Hein 2020): APGD-CE, APGD-T, FAB-T and Square run by the
// worst-case protocol (still-robust points only, each from the clean points),
// with the reference's checks reported as warnings.
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import * as torch from '../engine/torch.js';
import { classCount, type Norm } from './common.js';
import { checkSeed, checkThreatModel, nonNegativeInteger, positiveInteger } from './attack.js';
import { apgd, apgdTargeted } from './apgd.js';
import { fabTargeted } from './fab.js';
import { square } from './square.js';
import { classCountWarnings } from './checks.js';
import { AUTOATTACK_COMPONENTS, AUTOATTACK_VERSIONS, type AutoAttackComponent, type AutoAttackVersion } from './versions.js';
import { fraction, worstCase, type NamedAttack, type WorstCaseOptions, type WorstCaseResult } from './worstCase.js';

export { AUTOATTACK_COMPONENTS, AUTOATTACK_VERSIONS, type AutoAttackComponent, type AutoAttackVersion };
/** The standard version, in the order the reference runs it. */
export const STANDARD_AUTOATTACK: readonly AutoAttackComponent[] = AUTOATTACK_VERSIONS.standard.attacks;

export interface AutoAttackSuiteOptions {
  norm: Norm;
  epsilon: number;
  /** A row of AUTOATTACK_VERSIONS ('standard'), or 'custom': the `attacks` given, with the standard budgets. */
  version?: keyof typeof AUTOATTACK_VERSIONS | 'custom';
  attacks?: readonly AutoAttackComponent[];
  /** Targets of APGD-T and FAB-T instead of the version's (capped at classes - 1). */
  targets?: number;
  /** Square's query budget instead of the version's. */
  queries?: number;
}

export interface AutoAttackOptions
  extends
    AutoAttackSuiteOptions,
    Partial<Pick<WorstCaseOptions, 'batchSize' | 'device' | 'keepAdversarial' | 'onProgress' | 'onAttackDone' | 'onWarning'>> {
  /** Recorded with the result; the same seed gives the same result (default 0). */
  seed?: number;
  /** A state file: progress is saved there after every batch, and a run with the same settings resumes from it. */
  statePath?: string;
}

export interface AutoAttackResult extends WorstCaseResult {
  cleanAccuracy: number;
  robustAccuracy: number;
}

/** The version's row with the caller's attacks (custom), targets and queries; every option checked. */
function versionOf(o: AutoAttackSuiteOptions): AutoAttackVersion {
  const who = 'autoAttack';
  checkThreatModel(o, who);
  const version = o.version ?? 'standard';
  const known = [...Object.keys(AUTOATTACK_VERSIONS), 'custom'];
  if (!known.includes(version))
    throw new Error(`${who}: version must be ${known.map((v) => `'${v}'`).join(' or ')}, got '${String(version)}'`);
  const base: AutoAttackVersion = AUTOATTACK_VERSIONS.standard;
  const row = version === 'custom' ? base : AUTOATTACK_VERSIONS[version];
  let attacks = row.attacks;
  if (version === 'custom') {
    if (!o.attacks || o.attacks.length === 0)
      throw new Error(`${who}: version 'custom' needs attacks, some of ${AUTOATTACK_COMPONENTS.join(', ')}`);
    for (const a of o.attacks)
      if (!AUTOATTACK_COMPONENTS.includes(a)) throw new Error(`${who}: unknown attack '${a}'; known: ${AUTOATTACK_COMPONENTS.join(', ')}`);
    attacks = o.attacks;
  } else if (o.attacks !== undefined) {
    throw new Error(`${who}: 'attacks' are chosen by the ${version} version; use version 'custom' to pick them`);
  }
  return {
    ...row,
    attacks,
    targets: positiveInteger(o.targets ?? row.targets, 'targets', who),
    queries: nonNegativeInteger(o.queries ?? row.queries, 'queries', who),
  };
}

/**
 * The attacks of an AutoAttack version as the protocol runs them, for a model
 * with `classes` classes, and the warnings about what the class count rules out
 * (attacks it rules out are left out, never run on a meaningless loss).
 */
export function autoAttackSuite(o: AutoAttackSuiteOptions, classes: number): { attacks: NamedAttack[]; warnings: string[] } {
  const v = versionOf(o);
  const warnings = classCountWarnings(classes, v.attacks, v.targets);
  const usable = v.attacks.filter((name) => !(name === 'apgd-dlr' && classes < 3) && !(name === 'apgd-t' && classes < 4));
  const { norm, epsilon } = o;
  const { steps, targets, queries, restarts } = v;
  const make = (name: AutoAttackComponent): NamedAttack['run'] => {
    switch (name) {
      case 'apgd-ce':
        return (m, x, y, warn) => apgd(m, x, y, { norm, epsilon, steps, restarts: restarts[name], loss: 'ce', onWarning: warn });
      case 'apgd-dlr':
        return (m, x, y, warn) => apgd(m, x, y, { norm, epsilon, steps, restarts: restarts[name], loss: 'dlr', onWarning: warn });
      case 'apgd-t':
        return (m, x, y, warn) => apgdTargeted(m, x, y, { norm, epsilon, steps, restarts: restarts[name], targets, onWarning: warn });
      case 'fab-t':
        return (m, x, y) => fabTargeted(m, x, y, { norm, epsilon, steps, restarts: restarts[name], targets });
      case 'square':
        return (m, x, y) => square(m, x, y, { norm, epsilon, queries, restarts: restarts[name] });
    }
  };
  return { attacks: usable.map((name) => ({ name, run: make(name) })), warnings };
}

/** A stable description of what decides an AutoAttack result, to tell whether a state file belongs to this run. */
function stateKey(o: AutoAttackOptions, x: Tensor, y: Tensor, model: Module): string {
  const fingerprint = (t: Tensor): string => torch.tidy(() => t.double().sum().item().toPrecision(12));
  const weights = torch.tidy(() =>
    model
      .parameters()
      .reduce((s, p) => s + p.double().abs().sum().item(), 0)
      .toPrecision(12),
  );
  const v = versionOf(o);
  return JSON.stringify({
    attacks: v.attacks,
    targets: v.targets,
    queries: v.queries,
    norm: o.norm,
    epsilon: o.epsilon,
    seed: o.seed ?? 0,
    n: x.shape[0],
    x: fingerprint(x),
    y: fingerprint(y),
    weights,
  });
}

/**
 * Robust accuracy of `model` on (x, y) under AutoAttack: the per-point worst
 * case over the suite, logged after every attack. The model runs in eval mode
 * and gets its mode back; the caller's random stream is left as it was.
 */
export function autoAttack(model: Module, x: Tensor, y: Tensor, o: AutoAttackOptions): AutoAttackResult {
  checkSeed(o.seed, 'autoAttack');
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
  return {
    ...result,
    warnings: [...suite.warnings, ...result.warnings],
    cleanAccuracy: fraction(result.cleanCorrect),
    robustAccuracy: fraction(result.robust),
  };
}
