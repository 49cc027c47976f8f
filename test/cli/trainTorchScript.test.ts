// `d2r train --torchscript/--guidance-torchscript`: a user's own architecture (a
// tiny scripted network that is not in the zoo) trained with D2R, handed back as
// TorchScript, resumed, and evaluated from its run directory as PyTorch sees it;
// bad input (both flags for one model, a safetensors file as a script, a script
// changed before a resume) refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { data, io, models, torch } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { OptionError } from '../../src/io/errors.js';
import { usageErrorFrom } from '../../src/cli/flags.js';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

const makeScript = (path: string, seed: number): void =>
  void pytorch('script_training.py', 'make_script', { seed, path, channels: 1, classes: 10 });

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A D2R run of both scripts: 64 images, batch 32, two attack steps, 16 clean evaluation points. */
const scriptedRun = (out: string, target: string, guidance: string, epochs: number): string[] =>
  trainArgs(out, {
    method: 'd2r',
    model: null,
    torchscript: target,
    guidanceTorchscript: guidance,
    limit: 64,
    batchSize: 32,
    steps: 2,
    epochs,
  });

test('d2r trains scripted target and guidance, writes them as TorchScript, resumes, and evaluates the trained script', () => {
  const dir = tempDir();
  const target = join(dir, 'mine.pt');
  const guidance = join(dir, 'guide.pt');
  makeScript(target, 1);
  makeScript(guidance, 2);
  const out = join(dir, 'run');
  const first = d2r(scriptedRun(out, target, guidance, 1));
  assert.equal(first.status, 0, first.stderr);
  for (const name of ['target.safetensors', 'target.torchscript.pt', 'guidance.torchscript.pt'])
    assert.ok(existsSync(join(out, name)), `${name} written`);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown> & {
    config: Record<string, unknown>;
  };
  assert.equal(config.config['model'], 'torchscript');
  assert.equal(config.config['guidance'], 'torchscript');
  assert.equal(config.config['torchscript'], target);
  assert.equal(config['torchscriptSha256'], sha256(target));
  assert.equal(config['guidanceTorchscriptSha256'], sha256(guidance));
  const afterOne = readFileSync(join(out, 'target.torchscript.pt'));

  // Resumed: the recorded scripts are reloaded with the checkpoint's weights, and training goes on from there.
  const resumed = d2r(['train', '--out', out, '--resume', '--epochs', '2', '--threads', '1']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* after epoch 1/);
  assert.ok(!readFileSync(join(out, 'target.torchscript.pt')).equals(afterOne), 'the second epoch changed the saved script');

  // d2r eval --checkpoint evaluates the trained script: its clean accuracy is PyTorch's on target.torchscript.pt.
  const evalOut = join(dir, 'eval.json');
  const evaluated = d2r(['eval', '--checkpoint', out, '--attacks', 'none', '--n', '32', '--threads', '1', '--out', evalOut]);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const test32 = data.loadDataset('fashion-mnist', { split: 'test', limit: 32 });
  const ref = pytorch('script_training.py', 'script_logits', { path: join(out, 'target.torchscript.pt'), x: test32.images });
  const logits = torch.tensor(Float32Array.from(ref['logits'].data), ref['logits'].shape);
  const pytorchAccuracy = logits.argmax(1).eq(test32.labels).sum().item() / 32;
  const report = JSON.parse(readFileSync(evalOut, 'utf8')) as { cleanAccuracy: number };
  assert.equal(report.cleanAccuracy, pytorchAccuracy);

  // The target script changed since the run was trained (now the guidance's weights): resuming is refused, naming the flag and both hashes.
  const before = sha256(target);
  copyFileSync(guidance, target);
  const changed = d2r(['train', '--out', out, '--resume', '--epochs', '3', '--threads', '1']);
  assert.equal(changed.status, 2, changed.stderr);
  assert.match(changed.stderr, new RegExp(`--torchscript: expected the script the run was trained from \\(sha256 ${before}`));
  assert.match(changed.stderr, new RegExp(`mine\\.pt, whose sha256 is now ${sha256(target)}`));
});

test('d2r train refuses a zoo model and a script for the same role, and a safetensors file as a script', () => {
  // In the command line's words (as d2r train reports a refused setting), without starting a process.
  const refusal = (settings: Record<string, unknown>): string => {
    try {
      resolveTrainConfig(settings);
    } catch (err) {
      assert.ok(err instanceof OptionError, String(err));
      return usageErrorFrom(err).message;
    }
    return assert.fail(`accepted ${JSON.stringify(settings)}`);
  };
  assert.equal(
    refusal({ torchscript: 'mine.pt', model: 'smallcnn' }),
    '--torchscript and --model both give the target model: give one of them',
  );
  assert.equal(
    refusal({ method: 'd2r', guidanceTorchscript: 'mine.pt', guidance: 'resnet18' }),
    '--guidance-torchscript and --guidance both give the guidance model: give one of them',
  );
  assert.equal(refusal({ model: 'torchscript' }), '--model torchscript needs --torchscript (the TorchScript file (torch.jit.save))');
  assert.equal(resolveTrainConfig({ torchscript: 'mine.pt', model: 'torchscript' }).model, 'torchscript');
  // A scripted guidance model brings its weights: it may be frozen without --guidance-weights (a zoo one may not).
  assert.equal(resolveTrainConfig({ method: 'd2r', guidanceTorchscript: 'g.pt', guidanceMode: 'frozen' }).guidance, 'torchscript');
  assert.match(refusal({ method: 'd2r', guidanceMode: 'frozen' }), /--guidance-mode frozen needs --guidance-weights/);

  const dir = tempDir();
  const weights = join(dir, 'weights.safetensors');
  io.saveSafetensors(weights, { 'fc.weight': torch.zeros([2, 2]) });
  const wrong = d2r(trainArgs(join(dir, 'run'), { model: null, torchscript: weights }));
  assert.equal(wrong.status, 1);
  assert.match(
    wrong.stderr,
    /weights\.safetensors: expected a TorchScript archive \(torch\.jit\.save\), found safetensors weights; weights load into a zoo model \(--model with --weights\)/,
  );
});

test('a scripted target trains data-parallel as on one process: the gradients of its parameters are averaged', () => {
  const dir = tempDir();
  const script = join(dir, 'plain.pt');
  pytorch('script_training.py', 'make_script', { seed: 1, path: script, channels: 1, classes: 10, deterministic: true });
  const run = (out: string): string[] =>
    trainArgs(out, { model: null, torchscript: script, augment: 'off', schedule: 'constant', evalN: 0 });
  const one = join(dir, 'one');
  const two = join(dir, 'two');
  const single = d2r(run(one));
  assert.equal(single.status, 0, single.stderr);
  const parallel = d2r([...run(two), '--nproc-per-node', '2', '--dist-timeout', '30']);
  assert.equal(parallel.status, 0, parallel.stderr);
  torch.tidy(() => {
    const a = io.loadSafetensors(join(one, 'target.safetensors'));
    const b = io.loadSafetensors(join(two, 'target.safetensors'));
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    const before = models.loadTorchScript(script).stateDict();
    for (const [name, t] of Object.entries(a)) {
      assert.ok(t.sub(before[name]!).abs().max().item() > 1e-6, `${name} trained`);
      assert.ok(t.sub(b[name]!).abs().max().item() < 1e-5, `${name}: two processes agree with one`);
    }
  });
  assert.ok(existsSync(join(two, 'target.torchscript.pt')));
});
