// The attack names `d2r eval --attacks` understands, mapped to configured attacks.
import { pgd } from '../attacks/pgd.js';
import type { Norm } from '../attacks/common.js';
import type { NamedAttack } from '../attacks/worstCase.js';
import { AUTOATTACK_COMPONENTS, autoAttackSuite, type AutoAttackComponent } from '../attacks/autoAttack.js';

export const ATTACK_NAMES_HELP =
  'fgsm, pgdN (PGD on CE, N steps, step eps/4, uniform start; e.g. pgd20), cwN (PGD on the margin loss), ' +
  'autoattack (standard: apgd-ce, apgd-t, fab-t, square), or any of ' +
  AUTOATTACK_COMPONENTS.join(', ');

export interface AttackPlan {
  attacks: NamedAttack[];
  /** What the class count rules out, said before anything runs. */
  warnings: string[];
  /** Whether an AutoAttack component runs (then the reference's checks run too). */
  autoAttack: boolean;
}

function pgdFamily(name: string, epsilon: number, norm: Norm): NamedAttack | null {
  if (name === 'fgsm') return { name, run: (m, x, y) => pgd(m, x, y, { epsilon, stepSize: epsilon, steps: 1, norm, randomStart: 'none' }) };
  const iterative = /^(pgd|cw)(\d+)$/.exec(name);
  if (!iterative) return null;
  const steps = Number(iterative[2]);
  const loss = iterative[1] === 'cw' ? 'margin' : 'ce';
  return { name, run: (m, x, y) => pgd(m, x, y, { epsilon, stepSize: epsilon / 4, steps, norm, loss, randomStart: 'uniform' }) };
}

/** The attacks named, in order, for a model with `classes` classes ('autoattack' expands to the standard suite). */
export function planAttacks(names: string[], o: { epsilon: number; norm: Norm; classes: number }): AttackPlan {
  const plan: AttackPlan = { attacks: [], warnings: [], autoAttack: false };
  for (const name of names) {
    const simple = pgdFamily(name, o.epsilon, o.norm);
    if (simple) {
      plan.attacks.push(simple);
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
