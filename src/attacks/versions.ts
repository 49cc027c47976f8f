// AutoAttack's versions as one table, the way the reference's set_version sets
// them in one place: which attacks run, in which order, with which budgets.
// The attacks take their defaults from the standard row.

/** The attacks AutoAttack can run here. */
export const AUTOATTACK_COMPONENTS = ['apgd-ce', 'apgd-dlr', 'apgd-t', 'fab-t', 'square'] as const;
export type AutoAttackComponent = (typeof AUTOATTACK_COMPONENTS)[number];

/** One version's attacks and budgets. */
export interface AutoAttackVersion {
  /** The attacks, in the order they run. */
  attacks: readonly AutoAttackComponent[];
  /** Iterations of each APGD and FAB run. */
  steps: number;
  /** Runs per attack (per target for the targeted ones); each later run attacks only the points not yet fooled. */
  restarts: Readonly<Record<AutoAttackComponent, number>>;
  /** Target classes of APGD-T and FAB-T: the 2nd, 3rd, ... most likely clean classes (capped at classes - 1). */
  targets: number;
  /** Square's queries per run. */
  queries: number;
}

/**
 * The versions. 'standard' is the reference's (L-inf and L2). A 'plus' row
 * (restarts 5, apgd-dlr, untargeted FAB) and a 'rand' row (apgd-ce, apgd-dlr
 * with 20 EOT samples per gradient) need an untargeted FAB component and an EOT
 * option on APGD first.
 */
export const AUTOATTACK_VERSIONS = {
  standard: {
    attacks: ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
    steps: 100,
    restarts: { 'apgd-ce': 1, 'apgd-dlr': 1, 'apgd-t': 1, 'fab-t': 1, square: 1 },
    targets: 9,
    queries: 5000,
  },
} as const satisfies Record<string, AutoAttackVersion>;

export type AutoAttackVersionName = keyof typeof AUTOATTACK_VERSIONS;

/** The standard version's budgets: the defaults of the attacks when run on their own. */
export const STANDARD_BUDGETS: AutoAttackVersion = AUTOATTACK_VERSIONS.standard;
