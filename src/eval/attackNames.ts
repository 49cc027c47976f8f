// The attack names `d2r eval --attacks` understands, mapped to configured attacks.
import { pgd, type PgdOptions } from '../attacks/pgd.js';
import type { Tensor } from '../engine/tensor.js';
import type { Norm } from '../attacks/common.js';
import type { NamedAttack } from '../attacks/worstCase.js';
import { AUTOATTACK_COMPONENTS, autoAttackSuite, type AutoAttackComponent } from '../attacks/autoAttack.js';
import type { AutoAttackVersionName } from '../attacks/versions.js';

export const ATTACK_NAMES_HELP =
  'fgsm, pgdN (PGD on CE, N steps, step eps/4, uniform start; e.g. pgd20; towards the targets with --targets), ' +
  'cwN (PGD on the margin loss), autoattack (the --aa-version: standard is apgd-ce, apgd-t, fab-t, square), or any of ' +
  AUTOATTACK_COMPONENTS.join(', ');

/**
 * How FGSM, PGD and CW run (docs/protocol.md): 'ours' moves every point for
 * all its steps; 'reference' is the official D2R evaluation, where a point stops
 * moving once it is misclassified (FGSM also starts at a uniform random point
 * there). AutoAttack runs the same under both.
 */
export const EVAL_PROTOCOLS = ['ours', 'reference'] as const;
export type EvalProtocol = (typeof EVAL_PROTOCOLS)[number];

/** How the named attacks are configured. */
export interface PlanOptions {
  epsilon: number;
  norm: Norm;
  classes: number;
  /** How FGSM, PGD and CW run (default 'ours'). */
  protocol?: EvalProtocol;
  /** The AutoAttack version 'autoattack' stands for (default standard). */
  version?: AutoAttackVersionName;
  /** Chosen targets, one per point evaluated: PGD, FGSM, APGD-T and FAB-T attack them. */
  target?: Tensor;
}

export interface AttackPlan {
  attacks: NamedAttack[];
  /** What the class count rules out, said before anything runs. */
  warnings: string[];
  /** Whether an AutoAttack component runs (then the reference's checks run too). */
  autoAttack: boolean;
}

/**
 * The PGD options of 'fgsm', 'pgdN' or 'cwN' under a protocol, else null.
 * The reference's CW ascends the batch-mean negative margin and ours the sum:
 * the sign step makes the two the same attack.
 */
export function pgdFamilyOptions(name: string, epsilon: number, norm: Norm, protocol: EvalProtocol = 'ours'): PgdOptions | null {
  const earlyStop = protocol === 'reference';
  if (name === 'fgsm') return { epsilon, stepSize: epsilon, steps: 1, norm, randomStart: earlyStop ? 'uniform' : 'none', earlyStop };
  const iterative = /^(pgd|cw)(\d+)$/.exec(name);
  if (!iterative) return null;
  const loss = iterative[1] === 'cw' ? 'margin' : 'ce';
  return { epsilon, stepSize: epsilon / 4, steps: Number(iterative[2]), norm, loss, randomStart: 'uniform', earlyStop };
}

/** 'fgsm', 'pgdN' or 'cwN' as an attack (towards the chosen targets, if any), else null. */
function pgdFamily(name: string, o: PlanOptions): NamedAttack | null {
  if (o.norm === 'l1' && /^(fgsm|pgd\d+|cw\d+)$/.test(name))
    throw new Error(`attack '${name}' has no l1 form; with norm l1 use autoattack or apgd-ce, apgd-dlr, apgd-t`);
  const options = pgdFamilyOptions(name, o.epsilon, o.norm, o.protocol);
  if (!options) return null;
  if (options.loss === 'margin' && o.target)
    throw new Error(`attack '${name}' has no targeted form; leave out the targets or use pgd${options.steps}`);
  const chosen = (ids: Tensor): Tensor | undefined => o.target?.indexSelect(0, ids.to(o.target.device));
  return { name, run: (m, x, y, { ids, onStep }) => pgd(m, x, y, { ...options, target: chosen(ids), onStep }) };
}

/** The attacks named, in order, for a model with `classes` classes ('autoattack' expands to the version's suite). */
export function planAttacks(names: string[], o: PlanOptions): AttackPlan {
  const plan: AttackPlan = { attacks: [], warnings: [], autoAttack: false };
  for (const name of names) {
    const simple = pgdFamily(name, o);
    if (simple) {
      plan.attacks.push(simple);
      continue;
    }
    const isComponent = (AUTOATTACK_COMPONENTS as readonly string[]).includes(name);
    if (name !== 'autoattack' && !isComponent) throw new Error(`unknown attack '${name}'; known: ${ATTACK_NAMES_HELP}`);
    const suite = autoAttackSuite(
      {
        epsilon: o.epsilon,
        norm: o.norm,
        target: o.target,
        ...(isComponent ? { version: 'custom', attacks: [name as AutoAttackComponent] } : { version: o.version }),
      },
      o.classes,
    );
    plan.attacks.push(...suite.attacks);
    plan.warnings.push(...suite.warnings);
    plan.autoAttack = true;
  }
  const seen = new Set<string>();
  for (const a of plan.attacks) {
    if (seen.has(a.name))
      throw new Error(
        `attack '${a.name}' is named twice in '${names.join(',')}' ('autoattack' already includes ${AUTOATTACK_COMPONENTS.join(', ')})`,
      );
    seen.add(a.name);
  }
  return plan;
}
