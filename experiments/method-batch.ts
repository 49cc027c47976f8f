// One training batch of a method, computed by the toolkit and written down for a
// side-by-side run of the method's official code (experiments/official_losses.py,
// results in docs/results/official-losses.md): the models' weights before the
// step, the batch, the Gaussian start's noise, and what the toolkit computed from
// them: the adversarial batch (from the method's own start), the loss, every
// parameter's gradient and the BatchNorm buffers after the loss's train-mode passes.
//
//   node dist/experiments/method-batch.js --method trades --model smallcnn --out /tmp/trades-smallcnn
//
// writes OUT.pt (a torch.save file PyTorch loads) and OUT.json (the settings).
import { parseArgs } from 'node:util';
import { methods, models, torch } from '../src/index.js';
import type { Module } from '../src/nn/index.js';
import type { Tensor } from '../src/engine/tensor.js';
import { saveTorchSave } from '../src/io/torchSave.js';
import { writeJsonAtomic } from '../src/io/atomic.js';

const METHODS = ['trades', 'mart', 'lbgat', 'lbgat0', 'd2r'] as const;
type MethodName = (typeof METHODS)[number];
// The models the official scripts train: TRADES' SmallCNN (MNIST) and LBGAT's and
// D2R's CIFAR ResNet-18 (BatchNorm, so the train-mode passes show in its buffers).
const SHAPES = { smallcnn: { inChannels: 1, imageSize: 28 }, resnet18: { inChannels: 3, imageSize: 32 } };
type ModelName = keyof typeof SHAPES;

const { values } = parseArgs({
  options: {
    method: { type: 'string' },
    model: { type: 'string', default: 'smallcnn' },
    out: { type: 'string' },
    batch: { type: 'string', default: '8' },
    epsilon: { type: 'string', default: '0.1' },
    'step-size': { type: 'string', default: '0.01' },
    steps: { type: 'string', default: '10' },
    beta: { type: 'string', default: '6' },
    seed: { type: 'string', default: '0' },
  },
});
const method = values.method as MethodName;
if (!METHODS.includes(method)) throw new Error(`--method: expected one of ${METHODS.join(', ')}, got '${values.method}'`);
const modelName = values.model as ModelName;
if (!(modelName in SHAPES)) throw new Error(`--model: expected one of ${Object.keys(SHAPES).join(', ')}, got '${values.model}'`);
if (!values.out) throw new Error('--out: expected the path of the files to write, without extension');
const settings = {
  method,
  model: modelName,
  batch: Number(values.batch),
  epsilon: Number(values.epsilon),
  stepSize: Number(values['step-size']),
  steps: Number(values.steps),
  beta: method === 'lbgat0' ? 0 : Number(values.beta),
  seed: Number(values.seed),
};

/** The method as the trainer builds it (lbgat0: LBGAT with beta 0); every one here generates an adversarial batch. */
function createTrainingMethod(): methods.AdversarialTraining {
  const budget = { epsilon: settings.epsilon, stepSize: settings.stepSize, steps: settings.steps };
  const built =
    method === 'd2r'
      ? methods.createMethod('d2r', budget)
      : methods.createMethod(method === 'lbgat0' ? 'lbgat' : method, { ...budget, beta: settings.beta });
  if (!(built instanceof methods.AdversarialTraining)) throw new Error(`${method} does not generate an adversarial batch`);
  return built;
}

/** A zoo model without dropout (its masks come from each engine's own stream), no parameter left at zero. */
function createModel(): Module {
  const model = models.createModel(modelName, { numClasses: 10, ...SHAPES[modelName], dropout: 0 });
  // smallcnn's head starts at zero (TRADES' initialisation): every KL term would then
  // compare equal outputs and most gradients would be zero, which checks little.
  for (const p of model.parameters()) if (p.abs().amax().item() === 0) torch.noGrad(() => p.copy_(torch.randn(p.shape).mul(0.05)));
  return model;
}

function main(): void {
  torch.setNumThreads(1);
  torch.manualSeed(settings.seed);
  const training = createTrainingMethod();
  const target = createModel();
  const guidance = training.needsGuidance ? createModel() : null;
  const { inChannels, imageSize } = SHAPES[modelName];
  const shape = [settings.batch, inChannels, imageSize, imageSize];
  // Images in [0, 1] with about a fifth of the pixels at exactly 0 or 1, to exercise the box.
  const x = torch.rand(shape).mul(1.25).sub(0.125).clamp(0, 1);
  const y = torch.randint(0, 10, [settings.batch]);
  // The method draws its own start below from this seed: the noise it adds is this.
  torch.manualSeed(settings.seed + 1);
  const noise = torch.randn(shape);
  const record: Record<string, Tensor> = { x, y, noise };
  const trained: Record<string, Module> = guidance ? { 'T.': target, 'G.': guidance } : { 'T.': target };
  for (const [prefix, m] of Object.entries(trained))
    for (const [name, t] of Object.entries(m.stateDict())) record[prefix + name] = t.clone();

  const models = guidance ? { target, guidance } : { target };
  target.train();
  guidance?.train();
  torch.manualSeed(settings.seed + 1);
  const adv = training.generate(models, x, y);
  const { loss } = training.lossOn(models, x, adv, y);
  loss.backward();
  record['ours.adv'] = adv;
  record['ours.loss'] = loss.reshape([1]);
  for (const [prefix, m] of Object.entries(trained)) {
    for (const [name, p] of m.namedParameters()) if (p.grad) record[`ours.grad.${prefix}${name}`] = p.grad;
    for (const [name, b] of m.namedBuffers()) record[`ours.buffer.${prefix}${name}`] = b;
  }
  saveTorchSave(`${values.out}.pt`, record);
  writeJsonAtomic(`${values.out}.json`, { ...settings, tensors: `${values.out}.pt` });
  process.stdout.write(`${values.out}.pt ${values.out}.json: ${training.name} on ${modelName}, loss ${loss.item()}\n`);
}

main();
