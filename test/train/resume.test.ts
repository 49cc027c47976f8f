// A run killed mid-way and resumed reaches the same final weights as an
// uninterrupted run with the same seed; a diverging or collapsing run keeps its last good checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { d2r, d2rAsync, killWhen, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

const small = (method: string, out: string, epochs: number): string[] =>
  trainArgs(out, { method, limit: 192, epochs, steps: 2, evalN: 32, evalSteps: 2, seed: 3 });

type Pointer = { epoch: number; dir: string; batch?: number };
const pointerOf = (dir: string): Pointer => JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as Pointer;

async function killAfterFirstCheckpoint(args: string[], runDir: string): Promise<void> {
  await killAfter(args, runDir, () => true);
}

/** Runs `d2r args` and kills it (SIGKILL) once its checkpoint pointer satisfies `ready`. */
async function killAfter(args: string[], runDir: string, ready: (pointer: { epoch: number; batch?: number }) => boolean): Promise<void> {
  const pointer = join(runDir, 'checkpoint.json');
  const isReady = (): boolean => {
    try {
      return ready(JSON.parse(readFileSync(pointer, 'utf8')) as { epoch: number; batch?: number });
    } catch {
      return false;
    }
  };
  await killWhen(d2rAsync(args), isReady);
  if (!existsSync(pointer)) throw new Error('the run ended before writing a checkpoint');
}

for (const method of ['standard', 'd2r']) {
  test(`${method}: a killed run resumes to the same final weights`, async () => {
    const straight = tempDir();
    const whole = d2r(small(method, straight, 3));
    assert.equal(whole.status, 0, whole.stderr);

    const broken = tempDir();
    await killAfterFirstCheckpoint(small(method, broken, 3), broken);
    const pointer = pointerOf(broken);
    assert.ok(pointer.epoch >= 1 && pointer.epoch < 3, `killed after epoch ${pointer.epoch}`);
    const resumed = d2r([...small(method, broken, 3), '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming/);

    const a = readFileSync(join(straight, 'target.safetensors'));
    const b = readFileSync(join(broken, 'target.safetensors'));
    assert.ok(a.equals(b), 'final target weights differ between the resumed and the uninterrupted run');
    if (method === 'd2r') {
      const ga = readFileSync(join(straight, 'checkpoints', 'epoch-0003', 'guidance.safetensors'));
      const gb = readFileSync(join(broken, 'checkpoints', 'epoch-0003', 'guidance.safetensors'));
      assert.ok(ga.equals(gb), 'final guidance weights differ');
    }
    const epochs = readFileSync(join(broken, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'epoch');
    assert.deepEqual(
      epochs.map((r) => r.epoch),
      [1, 2, 3],
    );
  });
}

/** Runs `d2r args` and sends SIGINT when its stderr first matches `when`; its exit status and output. */
async function interruptAt(args: string[], when: RegExp): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = d2rAsync(args);
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      const before = stderr;
      stderr += chunk.toString();
      if (!when.test(before) && when.test(stderr)) child.kill('SIGINT');
    });
    child.on('exit', (code) => resolve(code));
  });
  return { status, stdout, stderr };
}

/** The epoch rows of a run's metrics.jsonl without their timing. */
function trainedEpochs(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r['type'] === 'epoch')
    .map(({ seconds: _seconds, ...row }) => row);
}

for (const method of ['standard', 'd2r']) {
  test(`${method}: a run stopped within an epoch checkpoints its batches and resumes to the same weights and metrics`, async () => {
    // 640 images at batch 64: 10 batches an epoch.
    const args = (dir: string, extra: string[] = []): string[] => [...small(method, dir, 3), '--limit', '640', ...extra];
    const straight = tempDir();
    const whole = d2r(args(straight));
    assert.equal(whole.status, 0, whole.stderr);

    // An interrupt in epoch 2: the batches done are checkpointed.
    const stopped = tempDir();
    const { status, stdout, stderr } = await interruptAt(args(stopped), /epoch 2\/3 \d/);
    assert.equal(status, 130, stderr);
    const pointer = pointerOf(stopped);
    assert.equal(pointer.epoch, 1, 'the last completed epoch');
    assert.ok(pointer.batch !== undefined && pointer.batch >= 1 && pointer.batch <= 10, JSON.stringify(pointer));
    assert.equal(pointer.dir, `checkpoints/epoch-0002-batch-${String(pointer.batch).padStart(6, '0')}`);
    assert.match(stdout, new RegExp(`interrupted at batch ${pointer.batch} of epoch 2, checkpointed`));
    // Fewer epochs would end inside the checkpoint's epoch: refused, nothing changed.
    const shorter = d2r([...args(stopped), '--resume', '--epochs', '1']);
    assert.equal(shorter.status, 2, shorter.stderr);
    assert.match(shorter.stderr, /--epochs: expected 2 or more: the run's checkpoint is \d+ batches into epoch 2/);
    assert.deepEqual(pointerOf(stopped), pointer);
    const resumed = d2r([...args(stopped), '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming \\S+ after epoch 1, at batch ${pointer.batch} of epoch 2`));
    // The resumed epoch's progress counts on from the checkpoint's batch.
    assert.equal(resumed.stderr.match(/epoch 2\/3 (\d+)\/10 /)?.[1], String(pointer.batch + 1), resumed.stderr);
    // metrics.jsonl records where each start began.
    const starts = readFileSync(join(stopped, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"type":"run"'))
      .map((l) => JSON.parse(l) as { resumedAfterEpoch: number; resumedAtBatch: number | null });
    assert.deepEqual(
      starts.map((s) => [s.resumedAfterEpoch, s.resumedAtBatch]),
      [
        [0, null],
        [1, pointer.batch],
      ],
    );

    // Killed at any moment with a checkpoint every batch (--checkpoint-minutes near 0).
    const killed = tempDir();
    await killAfter(args(killed, ['--checkpoint-minutes', '1e-9']), killed, (p) => p.epoch >= 1 && p.batch !== undefined);
    const again = d2r([...args(killed, ['--checkpoint-minutes', '1e-9']), '--resume']);
    assert.equal(again.status, 0, again.stderr);

    for (const dir of [stopped, killed]) {
      assert.ok(
        readFileSync(join(straight, 'target.safetensors')).equals(readFileSync(join(dir, 'target.safetensors'))),
        'final target weights',
      );
      if (method === 'd2r') {
        const guidance = (d: string): Buffer => readFileSync(join(d, 'checkpoints', 'epoch-0003', 'guidance.safetensors'));
        assert.ok(guidance(straight).equals(guidance(dir)), 'final guidance weights');
      }
      // The epoch's running sums went on: loss, accuracy and terms as in the uninterrupted run.
      assert.deepEqual(trainedEpochs(dir), trainedEpochs(straight));
      assert.deepEqual(pointerOf(dir), { epoch: 3, dir: 'checkpoints/epoch-0003' });
    }
  });
}

test('a diverging loss stops the run and keeps the last good checkpoint', () => {
  const dir = tempDir();
  assert.equal(d2r(small('standard', dir, 1)).status, 0);
  const r = d2r([...small('standard', dir, 2), '--resume', '--lr', '1e30']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /training diverged: the loss is (NaN|Infinity|-Infinity) at epoch 2/);
  assert.match(r.stderr, /last good checkpoint \(epoch 1\)/);
  const pointer = pointerOf(dir);
  assert.equal(pointer.epoch, 1);
});

test('a target that predicts one class for a whole epoch after it had learned stops the run, keeping the checkpoint before', () => {
  // At lr 0 smallcnn keeps its zero-initialised last layer: every logit is 0, every prediction class 0.
  const frozen = (dir: string, epochs: number, limit: number): string[] => [
    ...small('standard', dir, epochs),
    '--lr',
    '0',
    '--limit',
    String(limit),
  ];
  /** Two epochs, then the history rewritten to say epoch 2 had learned (as MART's first epoch had, 56%, before its units died). */
  const learnedThenFrozen = (dir: string, limit: number): void => {
    assert.equal(d2r(frozen(dir, 1, limit)).status, 0);
    // One class from the start is not a collapse: the model never learned.
    const never = d2r([...frozen(dir, 2, limit), '--resume']);
    assert.equal(never.status, 0, never.stderr);
    const metrics = join(dir, 'metrics.jsonl');
    const rows = readFileSync(metrics, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const learned = rows.map((row) => (row['type'] === 'epoch' && row['epoch'] === 2 ? { ...row, trainAccuracy: 0.5 } : row));
    writeFileSync(metrics, learned.map((row) => JSON.stringify(row)).join('\n') + '\n');
  };
  // 192 images: a handful can all fall in one class; too few to call it a collapse.
  const few = tempDir();
  learnedThenFrozen(few, 192);
  const fine = d2r([...frozen(few, 3, 192), '--resume']);
  assert.equal(fine.status, 0, fine.stderr);
  // 1,024 images, all one class.
  const dir = tempDir();
  learnedThenFrozen(dir, 1024);
  const r = d2r([...frozen(dir, 3, 1024), '--resume']);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /training collapsed: at epoch 3 the target predicted class 0 for every training image, after 50\.00% training accuracy at epoch 2/,
  );
  assert.match(r.stderr, /the checkpoint of epoch 2 in \S+ is kept/);
  const pointer = pointerOf(dir);
  assert.equal(pointer.epoch, 2);
});

test('eval writes cleanAccuracy and per-point arrays', () => {
  const dir = tempDir();
  assert.equal(d2r(small('standard', dir, 1)).status, 0);
  const out = join(dir, 'e.json');
  const r = d2r(['eval', '--checkpoint', dir, '--dataset', 'fashion-mnist', '--n', '40', '--attacks', 'none', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(readFileSync(out, 'utf8'));
  assert.ok(e.cleanAccuracy >= 0 && e.cleanAccuracy <= 1);
  assert.equal(e.points.index.length, 40);
  assert.equal(e.points.cleanCorrect.filter(Boolean).length / 40, e.cleanAccuracy);
  const withAttack = d2r(['eval', '--checkpoint', dir, '--n', '40', '--attacks', 'fgsm,pgd5', '--out', out]);
  assert.equal(withAttack.status, 0, withAttack.stderr);
  const a = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(a.attacks.length, 2);
  assert.ok(a.robustAccuracy <= a.attacks[0].robustAccuracy + 1e-12);
  assert.ok(a.robustAccuracy <= a.cleanAccuracy);
});

test('d2r with a frozen pre-trained guidance model leaves the guidance unchanged and trains the target', () => {
  const pre = tempDir();
  assert.equal(d2r(small('standard', pre, 1)).status, 0);
  const dir = tempDir();
  const r = d2r([...small('d2r', dir, 1), '--guidance-mode', 'frozen', '--guidance-weights', join(pre, 'target.safetensors')]);
  assert.equal(r.status, 0, r.stderr);
  const guidance = readFileSync(join(dir, 'checkpoints', 'epoch-0001', 'guidance.safetensors'));
  assert.ok(guidance.equals(readFileSync(join(pre, 'target.safetensors'))), 'the frozen guidance changed');
  assert.ok(!readFileSync(join(dir, 'target.safetensors')).equals(readFileSync(join(pre, 'target.safetensors'))));
  const missing = d2r([...small('d2r', tempDir(), 1), '--guidance-mode', 'frozen']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--guidance-mode frozen needs --guidance-weights/);
});

test('an interrupt (SIGINT) stops training after the batch in progress; the run resumes from its last checkpoint', async () => {
  const dir = tempDir();
  const args = [...small('standard', dir, 6), '--limit', '640'];
  // The first progress line of epoch 2: training is under way, and the run has a checkpoint.
  const { status, stderr } = await interruptAt(args, /epoch 2\/6 \d/);
  assert.equal(status, 130, stderr);
  assert.match(stderr, /interrupt received: stopping after this batch/);
  const epochs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch');
  assert.ok(epochs.length >= 1 && epochs.length < 6, `${epochs.length} epochs logged before the interrupt took effect`);
  const resumed = d2r([...args, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const after = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'epoch');
  assert.deepEqual(
    after.map((r) => r.epoch),
    [1, 2, 3, 4, 5, 6],
  );
});
