// AutoAttack (Croce & Hein 2020): the attacks of a version (src/attacks/versions.ts)
// run by the worst-case protocol (still-robust points only, each from the
// clean points), with the reference's checks reported as warnings; or each
// attack alone on all points (the reference's individual mode).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import * as torch from '../engine/torch.js';
import { classCount, type Norm } from './common.js';
import { checkSeed, checkTargets, checkThreatModel, nonNegativeInteger, positiveInteger } from './attack.js';
import { apgd, apgdTargeted } from './apgd.js';
import { fab, fabTargeted } from './fab.js';
import { square } from './square.js';
import { classCountWarnings } from './checks.js';
import {
  AUTOATTACK_COMPONENTS,
  AUTOATTACK_VERSIONS,
  AUTOATTACK_VERSION_NAMES,
  type AutoAttackComponent,
  type AutoAttackVersion,
  type AutoAttackVersionName,
} from './versions.js';
import {
  fraction,
  individually,
  worstCase,
  type IndividualOutcome,
  type NamedAttack,
  type WorstCaseOptions,
  type WorstCaseResult,
} from './worstCase.js';

export { AUTOATTACK_COMPONENTS, AUTOATTACK_VERSIONS, AUTOATTACK_VERSION_NAMES, type AutoAttackComponent, type AutoAttackVersion };
/** The standard version, in the order the reference runs it. */
export const STANDARD_AUTOATTACK: readonly AutoAttackComponent[] = AUTOATTACK_VERSIONS.standard.linf.attacks;

/** The components that have an L1 form here. */
const L1_COMPONENTS: readonly AutoAttackComponent[] = ['apgd-ce', 'apgd-dlr', 'apgd-t'];

export interface AutoAttackSuiteOptions {
  norm: Norm;
  epsilon: number;
  /** A row of AUTOATTACK_VERSIONS (default 'standard'), or 'custom': the `attacks` given, with the standard budgets of the norm. */
  version?: AutoAttackVersionName | 'custom';
  attacks?: readonly AutoAttackComponent[];
  /** Targets of APGD-T and FAB-T instead of the version's (capped at classes - 1). */
  targets?: number;
  /** Square's query budget instead of the version's. */
  queries?: number;
  /** One chosen target class per point (int64, as many as the points evaluated) for APGD-T and FAB-T, instead of the ranked ones. */
  target?: Tensor;
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

/** The version's row for the norm with the caller's attacks (custom), targets and queries; every option checked. */
export function versionOf(o: AutoAttackSuiteOptions): AutoAttackVersion {
  const who = 'autoAttack';
  checkThreatModel(o, who, ['linf', 'l2', 'l1']);
  const version = o.version ?? 'standard';
  const known = [...AUTOATTACK_VERSION_NAMES, 'custom'];
  if (!known.includes(version))
    throw new Error(`${who}: version must be ${known.map((v) => `'${v}'`).join(' or ')}, got '${String(version)}'`);
  const row: AutoAttackVersion | null = AUTOATTACK_VERSIONS[version === 'custom' ? 'standard' : version][o.norm];
  if (row === null)
    throw new Error(
      `${who}: version '${version}' has no ${o.norm} row (the reference meant it for linf and l2); use 'standard' or 'custom'`,
    );
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
  if (o.norm === 'l1') {
    const missing = attacks.filter((a) => !L1_COMPONENTS.includes(a));
    if (missing.length > 0) throw new Error(`${who}: ${missing.join(', ')} have no l1 form here; l1 has ${L1_COMPONENTS.join(', ')}`);
  }
  if (o.target) checkTargets(o.target, who);
  const targets = o.targets === undefined ? row.targets : positiveInteger(o.targets, 'targets', who);
  return {
    ...row,
    attacks,
    targets: typeof targets === 'number' ? { 'apgd-t': targets, 'fab-t': targets } : targets,
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
  const { steps, targets, queries, restarts, eot, largerEpsilons } = v;
  // The chosen targets of the points a batch holds.
  const chosen = (ids: Tensor): Tensor | undefined => o.target?.indexSelect(0, ids.to(o.target.device));
  const make = (name: AutoAttackComponent): NamedAttack['run'] => {
    const budget = { norm, epsilon, steps, restarts: restarts[name] };
    switch (name) {
      case 'apgd-ce':
      case 'apgd-dlr':
        return (m, x, y, { warn, onStep }) =>
          apgd(m, x, y, { ...budget, loss: name === 'apgd-ce' ? 'ce' : 'dlr', eot, largerEpsilons, onWarning: warn, onStep });
      case 'apgd-t':
        return (m, x, y, { warn, ids, onStep }) =>
          apgdTargeted(m, x, y, { ...budget, targets: targets[name], target: chosen(ids), largerEpsilons, onWarning: warn, onStep });
      case 'fab':
        return (m, x, y, { onStep }) => fab(m, x, y, { ...budget, onStep });
      case 'fab-t':
        return (m, x, y, { ids, onStep }) => fabTargeted(m, x, y, { ...budget, targets: targets[name], target: chosen(ids), onStep });
      case 'square':
        return (m, x, y, { onStep }) => square(m, x, y, { norm, epsilon, queries, restarts: restarts[name], onStep });
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
    ...v,
    target: o.target ? fingerprint(o.target) : null,
    norm: o.norm,
    epsilon: o.epsilon,
    seed: o.seed ?? 0,
    n: x.shape[0],
    x: fingerprint(x),
    y: fingerprint(y),
    weights,
  });
}

/** The suite for the model, its class-count warnings told; the seed and the chosen targets' count checked. */
function checkedSuite(model: Module, x: Tensor, o: AutoAttackOptions): { attacks: NamedAttack[]; warnings: string[] } {
  checkSeed(o.seed, 'autoAttack');
  if (o.target && o.target.shape[0] !== x.shape[0])
    throw new Error(`autoAttack: expected one target per point (${x.shape[0]}), got ${o.target.shape[0]}`);
  const suite = autoAttackSuite(o, classCount(model, x));
  for (const w of suite.warnings) o.onWarning?.(w);
  return suite;
}

/** How the protocol runs AutoAttack's attacks: the reference's checks on, 'rand' expecting a randomised model. */
function protocolOptions(o: AutoAttackOptions): WorstCaseOptions {
  return {
    batchSize: o.batchSize ?? 250,
    seed: o.seed ?? 0,
    device: o.device,
    threatModel: { norm: o.norm, epsilon: o.epsilon },
    checks: true,
    randomised: o.version === 'rand',
    onProgress: o.onProgress,
    onAttackDone: o.onAttackDone,
    onWarning: o.onWarning,
  };
}

/**
 * Robust accuracy of `model` on (x, y) under AutoAttack: the per-point worst
 * case over the suite, logged after every attack. The model runs in eval mode
 * and gets its mode back; the caller's random stream is left as it was.
 */
export function autoAttack(model: Module, x: Tensor, y: Tensor, o: AutoAttackOptions): AutoAttackResult {
  const suite = checkedSuite(model, x, o);
  const result = worstCase(model, x, y, suite.attacks, {
    ...protocolOptions(o),
    state: o.statePath ? { path: o.statePath, key: stateKey(o, x, y, model) } : undefined,
    keepAdversarial: o.keepAdversarial,
  });
  return {
    ...result,
    warnings: [...suite.warnings, ...result.warnings],
    cleanAccuracy: fraction(result.cleanCorrect),
    robustAccuracy: fraction(result.robust),
  };
}

export interface AutoAttackIndividualResult {
  cleanAccuracy: number;
  cleanCorrect: boolean[];
  /** Each attack of the version alone on all points, in the version's order. */
  attacks: IndividualOutcome[];
  warnings: string[];
}

/**
 * The reference's individual mode: each attack of the version run alone on
 * all the points the model gets right, reported separately (no state file).
 */
export function autoAttackIndividual(model: Module, x: Tensor, y: Tensor, o: AutoAttackOptions): AutoAttackIndividualResult {
  const suite = checkedSuite(model, x, o);
  const result = individually(model, x, y, suite.attacks, protocolOptions(o));
  return { ...result, cleanAccuracy: fraction(result.cleanCorrect), warnings: [...suite.warnings, ...result.warnings] };
}
