// A weights file that does not fit the model, or holds NaN, is refused with an
// error that names the file (and the tensor), never evaluated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { torch, models, io } from '../../src/index.js';
import { d2r } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

test('d2r eval --weights: unexpected keys and non-finite weights are errors naming the file and the tensor', () => {
  const dir = tempDir();
  const good = models.smallCnn({ numClasses: 10 }).stateDict();
  const renamed = join(dir, 'renamed.safetensors');
  io.saveSafetensors(renamed, { ...good, 'classifier.extra': torch.zeros([1]) });
  const poisoned = join(dir, 'nan.safetensors');
  io.saveSafetensors(poisoned, { ...good, 'classifier.fc3.bias': torch.full([10], Number.NaN) });
  for (const [file, problem] of [
    [renamed, /unexpected keys: classifier\.extra/],
    [poisoned, /classifier\.fc3\.bias/],
  ] as const) {
    const r = d2r([
      'eval',
      '--model',
      'smallcnn',
      '--weights',
      file,
      '--dataset',
      'fashion-mnist',
      '--n',
      '4',
      '--attacks',
      'none',
      '--out',
      join(dir, 'out.json'),
    ]);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(`from ${file}`), r.stderr);
    assert.match(r.stderr, problem);
  }
});
