// AutoAttack's versions as one table, the way the reference's set_version sets
// them in one place: for each version and threat model, which attacks run, in
// which order, with which budgets. The attacks take their defaults from the
// standard L-inf row.

/** The attacks AutoAttack can run here. */
export const AUTOATTACK_COMPONENTS = ['apgd-ce', 'apgd-dlr', 'fab', 'square', 'apgd-t', 'fab-t'] as const;
export type AutoAttackComponent = (typeof AUTOATTACK_COMPONENTS)[number];

/** The threat models AutoAttack has rows for. */
export const AUTOATTACK_NORMS = ['linf', 'l2', 'l1'] as const;
export type AutoAttackNorm = (typeof AUTOATTACK_NORMS)[number];

/** One version's attacks and budgets for one threat model. */
export interface AutoAttackVersion {
  /** The attacks, in the order they run. */
  attacks: readonly AutoAttackComponent[];
  /** Iterations of each APGD and FAB run. */
  steps: number;
  /** Runs per attack (per target for the targeted ones); each later run attacks only the points not yet fooled. */
  restarts: Readonly<Record<AutoAttackComponent, number>>;
  /** Target classes of APGD-T and FAB-T: the 2nd, 3rd, ... most likely clean classes (capped at classes - 1). */
  targets: Readonly<Record<'apgd-t' | 'fab-t', number>>;
  /** Square's queries per run. */
  queries: number;
  /** Gradient samples averaged per APGD-CE/-DLR step (expectation over transformation; 1: none). */
  eot: number;
  /** L1: APGD runs at 3, 2, then 1 times epsilon (30%, 30%, 40% of the steps), the reference's use_largereps. */
  largerEpsilons: boolean;
}

const ONE_RESTART = { 'apgd-ce': 1, 'apgd-dlr': 1, fab: 1, square: 1, 'apgd-t': 1, 'fab-t': 1 } as const;
const NINE_TARGETS = { 'apgd-t': 9, 'fab-t': 9 } as const;

const standard: AutoAttackVersion = {
  attacks: ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
  steps: 100,
  restarts: ONE_RESTART,
  targets: NINE_TARGETS,
  queries: 5000,
  eot: 1,
  largerEpsilons: false,
};

const plus: AutoAttackVersion = {
  ...standard,
  attacks: ['apgd-ce', 'apgd-dlr', 'fab', 'square', 'apgd-t', 'fab-t'],
  restarts: { ...ONE_RESTART, 'apgd-ce': 5, 'apgd-dlr': 5, fab: 5 },
};

const rand: AutoAttackVersion = { ...standard, attacks: ['apgd-ce', 'apgd-dlr'], eot: 20 };

/**
 * The versions by threat model (the reference's set_version). null: the
 * version has no row for that norm here. L1 'standard' is the reference's
 * APGD-CE (5 restarts) and APGD-T (5 targets) with larger epsilons first; the
 * reference's L1 FAB-T and Square are not implemented here, so the row stops
 * there. The reference warns that 'plus' is meant for L-inf and L2 only.
 */
export const AUTOATTACK_VERSIONS = {
  standard: {
    linf: standard,
    l2: standard,
    l1: {
      ...standard,
      attacks: ['apgd-ce', 'apgd-t'],
      restarts: { ...ONE_RESTART, 'apgd-ce': 5, 'apgd-dlr': 5 },
      targets: { 'apgd-t': 5, 'fab-t': 9 },
      largerEpsilons: true,
    },
  },
  plus: { linf: plus, l2: plus, l1: null },
  rand: { linf: rand, l2: rand, l1: rand },
} as const satisfies Record<string, Record<AutoAttackNorm, AutoAttackVersion | null>>;

export type AutoAttackVersionName = keyof typeof AUTOATTACK_VERSIONS;
export const AUTOATTACK_VERSION_NAMES = Object.keys(AUTOATTACK_VERSIONS) as AutoAttackVersionName[];

/** The standard L-inf budgets: the defaults of the attacks when run on their own. */
export const STANDARD_BUDGETS: AutoAttackVersion = AUTOATTACK_VERSIONS.standard.linf;
