// The full configuration of a training run: one schema gives each setting's
// type, range, choices and description (the CLI derives its flags from it, and
// config.json records it), the defaults sit next to it, and resolution fills
// the values that depend on other settings (attack budget per data set,
// learning rate per model, beta per method).
import { z, parseSettings } from '../io/schema.js';
import { MissingOptionError, OptionError, type OptionNamer } from '../io/errors.js';
import { MODEL_NAMES, type ModelName } from '../models/registry.js';
import { DATASETS, type DatasetName } from '../data/registry.js';
import {
  BETA_METHODS,
  D2R_DEFAULT_WEIGHTS,
  DEFAULT_BETA,
  METHOD_NAMES,
  RECIPE_NAMES,
  SHORT_RUN_EPOCHS,
  SHORT_RUN_WARMUP,
  recipeFor,
  scaledDecays,
  type MethodName,
} from '../methods/defaults.js';

export const DATASET_NAMES = DATASETS as readonly DatasetName[];
export { MODEL_NAMES, METHOD_NAMES };
export type { ModelName, DatasetName, MethodName };

/**
 * smallcnn's peak lr in a short run: as good as 0.05 in one epoch, and 0.05
 * spends a 3-epoch run bouncing (74.4% against 80.1% on 6,000 Fashion-MNIST
 * images); 0.01 is slower in one epoch (docs/results/short-runs.md).
 */
const SHORT_RUN_SMALLCNN_LR = 0.02;

/**
 * smallcnn's batch in a short run: a short run is short of steps, and batch
 * 16 gives 8 times the steps of 128 for the same images (measured in
 * docs/results/short-runs.md).
 */
const SHORT_RUN_SMALLCNN_BATCH = 16;

/** The batch of runs that are not short, and of other models. */
const DEFAULT_BATCH = 128;

const described = <T extends z.ZodType>(schema: T, description: string): T => schema.meta({ description });

/** The model name of a role whose model is a TorchScript file (--torchscript, --guidance-torchscript) rather than a zoo architecture. */
export const SCRIPTED = 'torchscript';
export type RunModelName = ModelName | typeof SCRIPTED;
const modelName = z.enum([...MODEL_NAMES, SCRIPTED] as readonly RunModelName[] as [RunModelName, ...RunModelName[]]);

/**
 * A resolved training configuration, as config.json records it: every setting
 * present; null only where a setting is absent by nature (no data folder, no
 * limit, no beta for methods without one).
 */
export const trainConfigSchema = z.object({
  method: described(z.enum(METHOD_NAMES), 'training method'),
  model: described(modelName, `target model (default: smallcnn; ${SCRIPTED} when --torchscript gives it)`),
  torchscript: described(
    z.string().nullable(),
    'the target as a TorchScript file (torch.jit.save): any architecture, trained from its weights (instead of --model)',
  ),
  guidance: described(
    modelName,
    `guidance model for d2r/lbgat (default: ${SCRIPTED} with --guidance-torchscript, else resnet18 on 32x32 data, else the target's zoo architecture, smallcnn for a scripted target)`,
  ),
  guidanceTorchscript: described(
    z.string().nullable(),
    'the guidance model as a TorchScript file (torch.jit.save), any architecture (instead of --guidance)',
  ),
  guidanceWeights: described(
    z.string().nullable(),
    'weights of a pre-trained guidance model: safetensors or a torch.save state dict (.pt/.pth)',
  ),
  guidanceMode: described(z.enum(['joint', 'frozen']), 'train the guidance jointly, or keep it frozen'),
  dataset: described(z.enum(DATASETS), 'data set'),
  dataDir: described(
    z.string().nullable(),
    'folder with the data files (mnist, cifar10, cifar100, tiny-imagenet; fashion-mnist: default the system copy)',
  ),
  recipe: described(
    z.enum(RECIPE_NAMES),
    "training recipe: 'reference' is the method's own (TRADES 76 epochs, MART 90 with weight decay 7e-4, the others D2R's 100), 'shared' is D2R's for every method; it fills epochs, weight decay and the lr table unless set " +
      `(default: reference; a recipe named here is followed at any length, none named gives a run under ${SHORT_RUN_EPOCHS} epochs the short-run defaults)`,
  ),
  epochs: described(z.int().min(1), "training epochs (default: the recipe's)"),
  batchSize: described(
    z.int().min(1),
    `batch size (default: ${DEFAULT_BATCH}; smallcnn ${SHORT_RUN_SMALLCNN_BATCH} under ${SHORT_RUN_EPOCHS} epochs unless --recipe is given)`,
  ),
  lr: described(
    z.number().min(0),
    `peak learning rate (default: 0.1; smallcnn 0.01, or ${SHORT_RUN_SMALLCNN_LR} under ${SHORT_RUN_EPOCHS} epochs unless --recipe is given)`,
  ),
  momentum: described(z.number().min(0), 'SGD momentum'),
  weightDecay: described(z.number().min(0), "SGD weight decay (every parameter; default: the recipe's)"),
  schedule: described(
    z.enum(['reference', 'short', 'multistep', 'cosine', 'constant']),
    "learning-rate schedule; 'reference' is the recipe's table (D2R's: epoch 1 at lr/5, then lr, /10 after 75%, /100 after 90% of the epochs), " +
      `'short' is set every batch: a linear warm-up over the first ${100 * SHORT_RUN_WARMUP}% of the batches, then a cosine decay to 0 (default: 'short' under ${SHORT_RUN_EPOCHS} epochs unless --recipe is given, else 'reference')`,
  ),
  milestones: described(
    z.array(z.int().min(1)),
    "epochs after which multistep multiplies the lr by gamma (default: the recipe's decays, scaled to the epochs)",
  ),
  gamma: described(z.number().min(0), 'multistep factor'),
  warmupEpochs: described(z.int().min(0), 'linear warm-up epochs before the schedule'),
  epsilon: described(z.number().min(0), 'attack budget (default: 0.3 mnist, 0.1 fashion-mnist, 8/255 otherwise)'),
  stepSize: described(z.number().min(0), 'attack step (default: epsilon/10 on 28x28 data, 0.007 otherwise)'),
  steps: described(z.int().min(0), 'attack steps during training'),
  norm: described(z.enum(['linf', 'l2']), 'threat model'),
  beta: described(z.number().min(0).nullable(), `TRADES/MART/LBGAT regulariser weight (default: ${DEFAULT_BETA})`),
  mseWeight: described(z.number().min(0), 'D2R: weight of the MSE logit term'),
  cleanWeight: described(z.number().min(0), 'D2R: weight of the clean-distribution term'),
  advWeight: described(z.number().min(0), 'D2R: weight of the adversarial-distribution term'),
  generation: described(z.enum(['cag', 'target']), 'D2R: collaborative (cag) or target-only adversarial generation'),
  reduction: described(z.enum(['reference', 'batchmean']), 'D2R: KL reduction'),
  augment: described(z.enum(['auto', 'on', 'off']), 'random crop + flip (auto: on for 32x32 and larger colour data)'),
  dropout: described(z.number().min(0), 'smallcnn dropout'),
  seed: described(z.int().min(0), 'random seed (data order, init, attacks)'),
  threads: described(
    z.int().min(0),
    'libtorch threads (unset or 0: every core of the machine; with --nproc-per-node: cores / processes each)',
  ),
  limit: described(z.int().min(1).nullable(), 'use only the first N training images'),
  syncBn: described(
    z.boolean(),
    'data-parallel runs: batch norm normalises with the statistics of the global batch, summed over the processes in each forward (one process: plain batch norm)',
  ),
  evalN: described(z.int().min(0), 'test points evaluated after each epoch (clean and PGD)'),
  evalSteps: described(z.int().min(0), 'PGD steps of the per-epoch robust evaluation (0: clean only)'),
  device: described(z.string(), "device ('cpu', 'cuda', 'cuda:1')"),
  out: described(z.string(), 'run directory (config, metrics, checkpoints)'),
  resume: described(z.boolean(), 'continue the run directory (out) from its last checkpoint'),
  checkpointMinutes: described(
    z.number().min(0),
    'a one-process run also checkpoints within an epoch when this many minutes have passed since its last checkpoint, and at an interrupt (0: at the end of each epoch only); the result does not depend on it',
  ),
});

export type TrainConfig = z.output<typeof trainConfigSchema>;
export type ScheduleName = TrainConfig['schedule'];

type SettingsShape = { [K in keyof TrainConfig]: z.ZodOptional<z.ZodType<NonNullable<TrainConfig[K]>>> };

/**
 * What a user may set (flags, a JSON or YAML file, or a library call): any
 * setting of the configuration, none null, no unknown ones.
 */
export const trainSettingsSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(trainConfigSchema.shape).map(([key, schema]) => [
      key,
      // Unwrapped, a nullable setting keeps its description.
      (schema instanceof z.ZodNullable ? (schema.unwrap() as z.ZodType).meta(schema.meta() ?? {}) : schema).optional(),
    ]),
  ) as SettingsShape,
);

export type TrainSettings = z.output<typeof trainSettingsSchema>;

/**
 * The defaults of the settings that do not depend on others (epochs, weight decay and schedule come from the recipe; batch size and lr from the model and run length; the model from --torchscript).
 * No recipe: whether one was named decides the short-run defaults (resolveTrainConfig).
 */
export const TRAIN_DEFAULTS = {
  method: 'standard',
  guidanceMode: 'joint',
  dataset: 'fashion-mnist',
  momentum: 0.9,
  gamma: 0.1,
  warmupEpochs: 0,
  steps: 10,
  norm: 'linf',
  mseWeight: D2R_DEFAULT_WEIGHTS.mse,
  cleanWeight: D2R_DEFAULT_WEIGHTS.clean,
  advWeight: D2R_DEFAULT_WEIGHTS.adv,
  generation: 'cag',
  reduction: 'reference',
  augment: 'auto',
  dropout: 0.5,
  seed: 0,
  syncBn: false,
  evalN: 1000,
  evalSteps: 20,
  device: 'cpu',
  out: 'runs/latest',
  resume: false,
  checkpointMinutes: 10,
} as const satisfies TrainSettings;

const isSmallImages = (dataset: DatasetName): boolean => dataset === 'mnist' || dataset === 'mnist-10k' || dataset === 'fashion-mnist';

/** The usual L-inf budget of a data set: 0.3 on MNIST, 0.1 on Fashion-MNIST, 8/255 on colour images. */
export function defaultEpsilon(dataset: DatasetName): number {
  return dataset === 'mnist' || dataset === 'mnist-10k' ? 0.3 : dataset === 'fashion-mnist' ? 0.1 : 8 / 255;
}

/**
 * Validates settings (an OptionError names the first bad one), fills the
 * defaults, derives the settings that depend on others and checks combinations.
 */
export function resolveTrainConfig(settings: unknown): TrainConfig {
  const given = parseSettings(trainSettingsSchema, settings);
  const s = {
    ...TRAIN_DEFAULTS,
    ...given,
    model: scriptedOrZoo(given, 'model', 'torchscript') ?? 'smallcnn',
    guidance: scriptedOrZoo(given, 'guidance', 'guidanceTorchscript'),
  };
  const small = isSmallImages(s.dataset);
  const epsilon = s.epsilon ?? defaultEpsilon(s.dataset);
  const recipeName = s.recipe ?? 'reference';
  const recipe = recipeFor(s.method, recipeName);
  const epochs = s.epochs ?? recipe.epochs;
  // A recipe named in the settings is followed at any length (the study's `--recipe shared --epochs 8`):
  // the short-run defaults are for runs that name none.
  const short = epochs < SHORT_RUN_EPOCHS && s.recipe === undefined;
  const config: TrainConfig = {
    ...s,
    recipe: recipeName,
    epochs,
    batchSize: s.batchSize ?? (short && s.model === 'smallcnn' ? SHORT_RUN_SMALLCNN_BATCH : DEFAULT_BATCH),
    weightDecay: s.weightDecay ?? recipe.weightDecay,
    schedule: s.schedule ?? (short ? 'short' : 'reference'),
    guidance: s.guidance ?? (small ? (s.model === SCRIPTED ? 'smallcnn' : s.model) : 'resnet18'),
    torchscript: s.torchscript ?? null,
    guidanceTorchscript: s.guidanceTorchscript ?? null,
    guidanceWeights: s.guidanceWeights ?? null,
    dataDir: s.dataDir ?? null,
    lr: s.lr ?? (s.model === 'smallcnn' ? (short ? SHORT_RUN_SMALLCNN_LR : 0.01) : recipe.lr),
    // MultiStepLR's milestone m decays the lr from epoch m + 1 on.
    milestones:
      s.milestones ??
      scaledDecays(recipe, epochs)
        .map(([from]) => from - 1)
        .filter((m) => m >= 1 && m < epochs),
    epsilon,
    stepSize: s.stepSize ?? (small ? epsilon / 10 : 0.007),
    beta: s.beta ?? (BETA_METHODS.includes(s.method) ? DEFAULT_BETA : null),
    threads: s.threads ?? 0,
    limit: s.limit ?? null,
  };
  // A scripted guidance model brings its own weights.
  if (config.guidanceMode === 'frozen' && !config.guidanceWeights && config.guidance !== SCRIPTED) {
    throw new MissingOptionError('guidanceWeights', 'a pre-trained guidance model', { option: 'guidanceMode', value: 'frozen' });
  }
  return config;
}

/** Two settings that give the same model in two ways. */
export class ConflictingOptionsError extends OptionError {
  override name = 'ConflictingOptionsError';
  constructor(
    option: string,
    readonly other: string,
    readonly what: string,
  ) {
    super(option, `no ${other} with it`, 'both');
    this.message = this.describe((o) => `setting '${o}'`);
  }

  override describe(name: OptionNamer): string {
    return `${name(this.option)} and ${name(this.other)} both give the ${this.what}: give one of them`;
  }
}

/**
 * The model of a role when a script or a zoo name decides it: SCRIPTED with a
 * script file, the zoo name given, or undefined (its default applies).
 */
function scriptedOrZoo(
  given: TrainSettings,
  zoo: 'model' | 'guidance',
  script: 'torchscript' | 'guidanceTorchscript',
): RunModelName | undefined {
  const name = given[zoo];
  const what = zoo === 'model' ? 'target model' : 'guidance model';
  if (given[script] !== undefined) {
    if (name !== undefined && name !== SCRIPTED) throw new ConflictingOptionsError(script, zoo, what);
    return SCRIPTED;
  }
  if (name === SCRIPTED) throw new MissingOptionError(script, 'the TorchScript file (torch.jit.save)', { option: zoo, value: SCRIPTED });
  return name;
}
