// The method names and the one home of every method default: the regulariser
// weights, and each method's training recipe (optimiser, epochs, learning-rate
// table, weight decay) as its authors ran it.

export const METHOD_NAMES = ['standard', 'pgd-at', 'trades', 'mart', 'lbgat', 'd2r'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** The methods that train a guidance model next to the target. */
export const TWO_MODEL_METHODS: readonly MethodName[] = ['lbgat', 'd2r'];
/** The methods with one KL regulariser weight beta. */
export const BETA_METHODS: readonly MethodName[] = ['trades', 'mart', 'lbgat'];

/** TRADES, MART and LBGAT: the weight of the KL regulariser. */
export const DEFAULT_BETA = 6;

/** D2R: the weights of the MSE logit term, the clean-distribution term and the adversarial-distribution term. */
export const D2R_DEFAULT_WEIGHTS = { mse: 1, clean: 20, adv: 30 } as const;

/** The training recipes: each method's own ('reference'), or D2R's for every method ('shared'). */
export const RECIPE_NAMES = ['reference', 'shared'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

/**
 * A training recipe as its authors' script runs it: SGD (momentum 0.9, batch
 * 128) for `epochs` epochs at peak lr `lr`, weight decay `weightDecay`, and the
 * learning rate of each 1-based epoch: lr / `firstEpochDivisor` in epoch 1 (the
 * reduced first epoch), then lr, divided by `decays[k][1]` from epoch
 * `decays[k][0]` on (the last decay that has started counts). Divisors, not
 * factors: 0.1 / 10 is 0.01 in floating point, 0.1 * 0.1 is not.
 */
export interface Recipe {
  /** Where the values come from. */
  source: string;
  epochs: number;
  lr: number;
  weightDecay: number;
  /** The first epoch runs at lr / firstEpochDivisor (1: no reduced first epoch). */
  firstEpochDivisor: number;
  /** [from epoch, divisor of lr], by increasing epoch. */
  decays: [fromEpoch: number, divisor: number][];
}

/**
 * D2R's recipe, which LBGAT's is too: epoch 1 at 0.02, 2..75 at 0.1, 76..90 at
 * 0.01, 91..100 at 0.001. The reference writes epoch 1 as a literal 0.02; we
 * keep it as lr/5, the same at the reference lr and scaled with a non-default --lr.
 */
const D2R_RECIPE: Recipe = {
  source: 'D2R/LBGAT',
  epochs: 100,
  lr: 0.1,
  weightDecay: 2e-4,
  firstEpochDivisor: 5,
  decays: [
    [76, 10],
    [91, 100],
    [101, 1000],
  ],
};

/** Each method's own recipe; PGD-AT and standard training take D2R's as their reference. */
const REFERENCE_RECIPES: Record<MethodName, Recipe> = {
  standard: { ...D2R_RECIPE, source: 'D2R (no recipe of its own)' },
  'pgd-at': { ...D2R_RECIPE, source: 'D2R (no recipe of its own)' },
  // train_trades_cifar10.py: lr * 0.1 from epoch 75, * 0.01 from 90, * 0.001 from 100.
  trades: {
    source: 'TRADES train_trades_cifar10.py',
    epochs: 76,
    lr: 0.1,
    weightDecay: 2e-4,
    firstEpochDivisor: 1,
    decays: [
      [75, 10],
      [90, 100],
      [100, 1000],
    ],
  },
  // train_wideresnet.py (MART on WRN): the same steps over 90 epochs, weight decay 7e-4.
  mart: {
    source: 'MART train_wideresnet.py',
    epochs: 90,
    lr: 0.1,
    weightDecay: 7e-4,
    firstEpochDivisor: 1,
    decays: [
      [75, 10],
      [90, 100],
      [100, 1000],
    ],
  },
  lbgat: D2R_RECIPE,
  d2r: D2R_RECIPE,
};

/** The recipe a method trains with: its own ('reference') or D2R's ('shared'). */
export function recipeFor(method: MethodName, recipe: RecipeName = 'reference'): Recipe {
  const r = recipe === 'shared' ? D2R_RECIPE : REFERENCE_RECIPES[method];
  if (!r) throw new Error(`unknown method '${method}'; known: ${METHOD_NAMES.join(', ')}`);
  return r;
}

/**
 * Runs shorter than this many epochs skip the recipe's reduced first epoch: the
 * reference's warm-up is 1 epoch of 100, and in a 1-to-9-epoch run it would be
 * a tenth or more of the training.
 */
export const SHORT_RUN_EPOCHS = 10;

/** A short run's linear warm-up, as a share of its batches (src/train/schedule.ts warmupCosine). */
export const SHORT_RUN_WARMUP = 0.1;

/**
 * A recipe's decay epochs for a run of `epochs` epochs: the recipe's own when
 * `epochs` is the recipe's, else scaled proportionally (an extension: the
 * references train their own number of epochs only). Decays that fall after
 * the run are kept, so the step table is the same whatever the run's length.
 */
export function scaledDecays(recipe: Recipe, epochs: number): [fromEpoch: number, divisor: number][] {
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`learningRate: epochs must be a positive integer, got ${epochs}`);
  return recipe.decays.map(([from, divisor]) => [Math.round(((from - 1) * epochs) / recipe.epochs) + 1, divisor]);
}

/**
 * The learning rate of a 1-based epoch under a recipe for a run of `epochs`
 * epochs at peak `lr`; `reducedFirstEpoch: false` runs epoch 1 at lr.
 */
export function recipeLearningRate(recipe: Recipe, epoch: number, epochs: number, lr = recipe.lr, reducedFirstEpoch = true): number {
  const decays = scaledDecays(recipe, epochs);
  let divisor = 1;
  for (const [from, d] of decays) if (epoch >= from) divisor = d;
  if (epoch < 2 && reducedFirstEpoch && divisor === 1) divisor = recipe.firstEpochDivisor;
  return lr / divisor;
}

/** D2R's reference learning rate of a 1-based epoch (lr 0.1), the 100-epoch table scaled proportionally to `epochs`. */
export function referenceLearningRate(epoch: number, epochs = D2R_RECIPE.epochs): number {
  return recipeLearningRate(D2R_RECIPE, epoch, epochs);
}

export interface MethodDefaults {
  /** The method's own hyper-parameters (the attack budget is per data set and comes from the caller). */
  options: Record<string, number | string>;
  /** One SGD over the parameters of these models. */
  optimizer: { name: 'sgd'; lr: number; momentum: number; weightDecay: number; models: 'target' | 'target+guidance' };
  batchSize: number;
  epochs: number;
  /** The method's reference learning rate of a 1-based epoch, its table scaled proportionally to `epochs`. */
  learningRate(epoch: number, epochs?: number): number;
}

const METHOD_OPTIONS: Record<MethodName, Record<string, number | string>> = {
  standard: {},
  'pgd-at': { norm: 'linf' },
  trades: { norm: 'linf', beta: DEFAULT_BETA },
  mart: { norm: 'linf', beta: DEFAULT_BETA },
  lbgat: { norm: 'linf', beta: DEFAULT_BETA },
  d2r: { norm: 'linf', ...D2R_DEFAULT_WEIGHTS, reduction: 'reference', generation: 'cag', guidance: 'joint' },
};

export function methodDefaults(name: MethodName): MethodDefaults {
  const options = METHOD_OPTIONS[name];
  if (!options) throw new Error(`unknown method '${name}'; known: ${Object.keys(METHOD_OPTIONS).join(', ')}`);
  const recipe = recipeFor(name);
  return {
    options: { ...options },
    optimizer: {
      name: 'sgd',
      lr: recipe.lr,
      momentum: 0.9,
      weightDecay: recipe.weightDecay,
      models: TWO_MODEL_METHODS.includes(name) ? 'target+guidance' : 'target',
    },
    batchSize: 128,
    epochs: recipe.epochs,
    learningRate: (epoch, epochs = recipe.epochs) => recipeLearningRate(recipe, epoch, epochs),
  };
}
