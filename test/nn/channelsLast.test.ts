// Module.toChannelsLast: the same parameters, values and files, convolutions run in NHWC;
// and which models the CLI lays out so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, models, io, type nn, type Tensor } from '../../src/index.js';
import { createModelFor } from '../../src/eval/runModels.js';
import { tempDir } from '../helpers/tempDir.js';

/** smallcnn (its first convolution has one input channel, a shape both layouts describe) with a non-zero head. */
function seededSmallCnn(): models.SmallCnn {
  torch.manualSeed(3);
  const m = models.smallCnn({ dropout: 0 });
  torch.noGrad(() =>
    torch.tidy(() =>
      m.classifier
        .get('fc3')!
        .parameters()[0]!
        .copy_(torch.randn([10, 200]).mul(0.1)),
    ),
  );
  return m;
}

test('toChannelsLast keeps every parameter object and value, and lays 4-D ones out NHWC', () => {
  const plain = seededSmallCnn();
  const cl = seededSmallCnn();
  const before = cl.parameters();
  assert.equal(cl.toChannelsLast(), cl);
  assert.deepEqual(cl.parameters(), before, 'the same parameter objects (an optimizer built earlier still holds them)');
  for (const [name, p] of cl.namedParameters()) {
    assert.equal(p.isChannelsLast(), p.shape.length === 4, name);
    assert.equal(p.requiresGrad, true, name);
  }
  const a = plain.stateDict();
  for (const [name, t] of Object.entries(cl.stateDict())) assert.deepEqual(t.toNumbers(), a[name]!.toNumbers(), name);
  // Files hold the logical order whatever the layout.
  const dir = tempDir();
  io.saveSafetensors(join(dir, 'plain.safetensors'), plain.stateDict());
  io.saveSafetensors(join(dir, 'cl.safetensors'), cl.stateDict());
  assert.deepEqual(readFileSync(join(dir, 'cl.safetensors')), readFileSync(join(dir, 'plain.safetensors')));
});

test('a channels-last model computes what the NCHW one does, in NHWC, gradients included', () => {
  const plain = seededSmallCnn().eval();
  const cl = seededSmallCnn().toChannelsLast().eval();
  torch.manualSeed(4);
  const x = torch.rand([8, 1, 28, 28]);
  const y = torch.randint(0, 10, [8]);
  assert.equal(cl.featureExtractor.forward(x).isChannelsLast(), true, 'the convolutions ran in NHWC');
  assert.equal(plain.featureExtractor.forward(x).isChannelsLast(), false);
  const run = (m: models.SmallCnn): { logits: Tensor; grads: Tensor[]; inputGrad: Tensor } => {
    const input = x.clone().requiresGrad_();
    const logits = m.forward(input);
    torch.crossEntropy(logits, y).backward();
    return { logits: logits.detach(), grads: m.parameters().map((p) => p.grad!), inputGrad: input.grad! };
  };
  const [p, c] = [run(plain), run(cl)];
  const close = (u: Tensor, v: Tensor, what: string): void => {
    const scale = Math.max(1e-6, v.abs().max().item() as number);
    assert.ok((u.sub(v).abs().max().item() as number) <= 1e-5 * scale, what);
  };
  close(c.logits, p.logits, 'logits');
  close(c.inputGrad, p.inputGrad, 'input gradient');
  cl.namedParameters().forEach(([name, param], i) => {
    close(c.grads[i]!, p.grads[i]!, `${name} gradient`);
    if (param.shape.length === 4) assert.equal(c.grads[i]!.isChannelsLast(), true, `${name} gradient layout`);
  });
});

test('on CPU the CLI lays out channels-last the zoo models without batch norm, and leaves those with it NCHW', () => {
  const fashion = { inputShape: [1, 28, 28] as [number, number, number], numClasses: 10 };
  const cifar = { inputShape: [3, 32, 32] as [number, number, number], numClasses: 10 };
  const convWeights = (m: nn.Module): Tensor[] => m.parameters().filter((p) => p.shape.length === 4);
  const small = createModelFor('smallcnn', fashion, 0.5, 'cpu');
  assert.ok(
    convWeights(small).every((p) => p.isChannelsLast()),
    'smallcnn: every convolution weight NHWC',
  );
  // libtorch 1.13's channels-last batch norm backward (train mode) is far less accurate on deeper networks (docs/engine.md).
  for (const name of ['preact18', 'resnet18', 'wrn'] as const) {
    const m = createModelFor(name, cifar, 0, 'cpu');
    assert.ok(
      convWeights(m).every((p) => !p.isChannelsLast() || p.shape[1] === 1),
      `${name}: NCHW`,
    );
  }
});
