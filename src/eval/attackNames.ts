// The attack names `d2r eval --attacks` understands, mapped to configured attacks.
import { pgd, type PgdOptions } from '../attacks/pgd.js';
import type { Norm } from '../attacks/common.js';
import type { NamedAttack } from '../attacks/worstCase.js';
import { AUTOATTACK_COMPONENTS, autoAttackSuite, type AutoAttackComponent } from '../attacks/autoAttack.js';

export const ATTACK_NAMES_HELP =
  'fgsm, pgdN (PGD on CE, N steps, step eps/4, uniform start; e.g. pgd20), cwN (PGD on the margin loss), ' +
  'autoattack (standard: apgd-ce, apgd-t, fab-t, square), or any of ' +
  AUTOATTACK_COMPONENTS.join(', ');

/**
 * How FGSM, PGD and CW run (docs/protocol.md): 'ours' moves every point for
 * all its steps; 'reference' is the official D2R evaluation, where a point stops
 * moving once it is misclassified (FGSM also starts at a uniform random point
 * there). AutoAttack runs the same under both.
 */
export const EVAL_PROTOCOLS = ['ours', 'reference'] as const;
export type EvalProtocol = (typeof EVAL_PROTOCOLS)[number];

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

/** The attacks named, in order, for a model with `classes` classes ('autoattack' expands to the standard suite). */
export function planAttacks(names: string[], o: { epsilon: number; norm: Norm; classes: number; protocol?: EvalProtocol }): AttackPlan {
  const plan: AttackPlan = { attacks: [], warnings: [], autoAttack: false };
  for (const name of names) {
    const options = pgdFamilyOptions(name, o.epsilon, o.norm, o.protocol);
    if (options) {
      plan.attacks.push({ name, run: (m, x, y) => pgd(m, x, y, options) });
      continue;
    }
    const isComponent = (AUTOATTACK_COMPONENTS as readonly string[]).includes(name);
    if (name !== 'autoattack' && !isComponent) throw new Error(`unknown attack '${name}'; known: ${ATTACK_NAMES_HELP}`);
    const suite = autoAttackSuite(
      { epsilon: o.epsilon, norm: o.norm, ...(isComponent ? { version: 'custom', attacks: [name as AutoAttackComponent] } : {}) },
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
