// The command line with PyTorch's files: d2r eval --torchscript and --weights FILE.pt
// evaluate the same network alike, and d2r convert moves weights between formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { torch, io } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';
import { d2r } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

const evalArgs = (source: string[], out: string): string[] => [
  'eval',
  ...source,
  '--dataset',
  'fashion-mnist',
  '--n',
  '4',
  '--attacks',
  'pgd20',
  '--out',
  out,
];

test('d2r eval --torchscript and --model --weights FILE.pth give the same accuracies; d2r convert round-trips', () => {
  const dir = tempDir();
  const files = { script: join(dir, 'small.pt'), plain: join(dir, 'plain.pt'), wrapped: join(dir, 'wrapped.pth') };
  pytorch('torch_files.py', 'small_cnn_files', { seed: 3, x: torch.rand([1, 1, 28, 28]), ...files });
  const scripted = d2r(evalArgs(['--torchscript', files.script], join(dir, 'script.json')));
  assert.equal(scripted.status, 0, scripted.stderr);
  const zoo = d2r(evalArgs(['--model', 'smallcnn', '--weights', files.wrapped], join(dir, 'zoo.json')));
  assert.equal(zoo.status, 0, zoo.stderr);
  assert.match(zoo.stderr, /note: .*wrapped\.pth: stripped the 'module\.' prefix \(nn\.DataParallel\) from 14 keys/);
  const accuracies = (file: string) => {
    const e = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cleanAccuracy: number; robustAccuracy: number };
    return [e.cleanAccuracy, e.robustAccuracy];
  };
  assert.deepEqual(accuracies('script.json'), accuracies('zoo.json'));
  assert.equal(d2r(evalArgs(['--torchscript', files.script, '--model', 'smallcnn'], join(dir, 'x.json'))).status, 2);
  const wrongKind = d2r(evalArgs(['--torchscript', files.plain], join(dir, 'y.json')));
  assert.equal(wrongKind.status, 1);
  assert.match(wrongKind.stderr, /plain\.pt: expected a TorchScript archive \(torch\.jit\.save\), found a torch\.save archive/);

  const safetensors = join(dir, 'converted.safetensors');
  const back = join(dir, 'back.pt');
  const toSafetensors = d2r(['convert', files.wrapped, safetensors]);
  assert.equal(toSafetensors.status, 0, toSafetensors.stderr);
  assert.match(toSafetensors.stdout, /wrote 14 tensors to .*converted\.safetensors \(safetensors\)/);
  assert.equal(d2r(['convert', safetensors, back]).status, 0);
  const original = io.readWeightsFile(files.plain).tensors;
  const roundTrip = io.readWeightsFile(back).tensors;
  assert.deepEqual(Object.keys(roundTrip).sort(), Object.keys(original).sort());
  for (const [name, t] of Object.entries(original)) assert.deepEqual(roundTrip[name]!.toNumbers(), t.toNumbers(), name);
  // An existing OUT is not overwritten; an unknown extension is a usage error.
  writeFileSync(join(dir, 'kept.pt'), 'mine');
  const existing = d2r(['convert', files.plain, join(dir, 'kept.pt')]);
  assert.equal(existing.status, 2);
  assert.equal(readFileSync(join(dir, 'kept.pt'), 'utf8'), 'mine');
  assert.equal(d2r(['convert', files.plain, join(dir, 'out.bin')]).status, 2);
});
