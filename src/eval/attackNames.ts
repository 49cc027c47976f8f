// The attack names `d2r eval --attacks` understands, mapped to configured attacks.
import { pgd } from '../attacks/pgd.js';
import type { Tensor } from '../engine/tensor.js';
import type { Norm } from '../attacks/common.js';
import type { NamedAttack } from '../attacks/worstCase.js';
import { AUTOATTACK_COMPONENTS, autoAttackSuite, type AutoAttackComponent } from '../attacks/autoAttack.js';
import type { AutoAttackVersionName } from '../attacks/versions.js';

export const ATTACK_NAMES_HELP =
  'fgsm, pgdN (PGD on CE, N steps, step eps/4, uniform start; e.g. pgd20; towards the targets with --targets), ' +
  'cwN (PGD on the margin loss), autoattack (the --aa-version: standard is apgd-ce, apgd-t, fab-t, square), or any of ' +
  AUTOATTACK_COMPONENTS.join(', ');

/** How the named attacks are configured. */
export interface PlanOptions {
  epsilon: number;
  norm: Norm;
  classes: number;
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

function pgdFamily(name: string, o: PlanOptions): NamedAttack | null {
  const { epsilon, norm } = o;
  if (norm === 'l1' && /^(fgsm|pgd\d+|cw\d+)$/.test(name))
    throw new Error(`attack '${name}' has no l1 form; with norm l1 use autoattack or apgd-ce, apgd-dlr, apgd-t`);
  const chosen = (ids: Tensor): Tensor | undefined => o.target?.indexSelect(0, ids.to(o.target.device));
  if (name === 'fgsm')
    return {
      name,
      run: (m, x, y, _, ids) => pgd(m, x, y, { epsilon, stepSize: epsilon, steps: 1, norm, randomStart: 'none', target: chosen(ids) }),
    };
  const iterative = /^(pgd|cw)(\d+)$/.exec(name);
  if (!iterative) return null;
  const steps = Number(iterative[2]);
  const loss = iterative[1] === 'cw' ? 'margin' : 'ce';
  if (loss === 'margin' && o.target) throw new Error(`attack '${name}' has no targeted form; leave out the targets or use pgd${steps}`);
  return {
    name,
    run: (m, x, y, _, ids) =>
      pgd(m, x, y, { epsilon, stepSize: epsilon / 4, steps, norm, loss, randomStart: 'uniform', target: chosen(ids) }),
  };
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
