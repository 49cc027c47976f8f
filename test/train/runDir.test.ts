// What d2r train does to a run directory: it deletes only files it wrote,
// refuses to mix two runs (a fresh run into a run's directory, a second
// process at the same time, a checkpoint of other settings), and repairs what
// a kill at any moment leaves behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

const small = (out: string, epochs: number, method = 'standard'): string[] => trainArgs(out, { method, epochs, steps: 1, seed: 3 });

const epochLines = (dir: string): number[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; epoch?: number })
    .filter((r) => r.type === 'epoch')
    .map((r) => r.epoch!);

test('training deletes only the checkpoints it wrote, also through a symbolic link to checkpoints/', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'checkpoints', 'mine'), { recursive: true });
  writeFileSync(join(dir, 'checkpoints', 'notes.txt'), 'keep me');
  writeFileSync(join(dir, 'checkpoints', 'mine', 'weights.bin'), 'keep me');
  const r = d2r(small(dir, 2));
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'checkpoints', 'notes.txt')));
  assert.ok(existsSync(join(dir, 'checkpoints', 'mine', 'weights.bin')));
  assert.ok(existsSync(join(dir, 'checkpoints', 'epoch-0002', 'target.safetensors')));
  assert.ok(!existsSync(join(dir, 'checkpoints', 'epoch-0001')), 'the obsolete checkpoint of epoch 1 is removed');

  const elsewhere = tempDir();
  writeFileSync(join(elsewhere, 'thesis.tex'), 'keep me');
  mkdirSync(join(elsewhere, 'epoch-0001'));
  writeFileSync(join(elsewhere, 'epoch-0001', 'data.csv'), 'keep me');
  const linked = tempDir();
  symlinkSync(elsewhere, join(linked, 'checkpoints'));
  // The foreign epoch-0001 looks like a checkpoint folder: replacing "the run" there must still keep its file.
  const l = d2r([...small(linked, 2), '--overwrite']);
  assert.equal(l.status, 0, l.stderr);
  assert.equal(readFileSync(join(elsewhere, 'thesis.tex'), 'utf8'), 'keep me');
  assert.equal(readFileSync(join(elsewhere, 'epoch-0001', 'data.csv'), 'utf8'), 'keep me');
  assert.ok(!existsSync(join(elsewhere, 'epoch-0001', 'target.safetensors')), "the run's own files of epoch 1 are removed");
});

test('a fresh run into a run directory refuses without --overwrite; --overwrite clears exactly the run', () => {
  const dir = tempDir();
  assert.equal(d2r(small(dir, 1)).status, 0);
  writeFileSync(join(dir, 'mine.txt'), 'keep me');
  const before = readFileSync(join(dir, 'target.safetensors'));
  const r = d2r(small(dir, 1, 'pgd-at'));
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--out .* holds a run \(.*config\.json.*\): continue it with --resume, replace its files with --overwrite/);
  assert.ok(readFileSync(join(dir, 'target.safetensors')).equals(before), 'the refused run changed nothing');
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).config.method, 'standard');

  const o = d2r([...small(dir, 1, 'pgd-at'), '--overwrite']);
  assert.equal(o.status, 0, o.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).config.method, 'pgd-at');
  assert.equal(readFileSync(join(dir, 'mine.txt'), 'utf8'), 'keep me');
  assert.deepEqual(epochLines(dir), [1]);
});

test("resume refuses a checkpoint trained with other settings than the run's config.json names", () => {
  const dir = tempDir();
  assert.equal(d2r(small(dir, 1)).status, 0);
  // What a new run killed before its first checkpoint used to leave: its config.json, the old checkpoint.
  const configPath = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.config.method = 'pgd-at';
  writeFileSync(configPath, JSON.stringify(config));
  const r = d2r([...small(dir, 2, 'pgd-at'), '--resume']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--method: expected "standard", as the checkpoint of epoch 1 .* was trained/);
});

test('a second run into a locked directory is refused with the owner pid; a dead owner lock is taken over', () => {
  const dir = tempDir();
  writeFileSync(join(dir, '.d2r.lock'), JSON.stringify({ pid: process.pid }));
  const r = d2r(small(dir, 1));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`in use by another d2r process \\(pid ${process.pid}`));
  assert.ok(!existsSync(join(dir, 'config.json')));

  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(dir, '.d2r.lock'), JSON.stringify({ pid: dead }));
  const t = d2r(small(dir, 1));
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stderr, new RegExp(`took over the lock of .* from process ${dead}`));
  assert.ok(!existsSync(join(dir, '.d2r.lock')), 'the lock is released at the end');
});

test('resume rewrites a stale or missing root target.safetensors and removes leftover temporary files', () => {
  const dir = tempDir();
  assert.equal(d2r(small(dir, 1)).status, 0);
  const good = readFileSync(join(dir, 'checkpoints', 'epoch-0001', 'target.safetensors'));
  writeFileSync(join(dir, 'target.safetensors'), 'stale');
  const temps = [join(dir, '.target.safetensors.999999.0.tmp'), join(dir, 'checkpoints', 'epoch-0001', '.state.json.999999.3.tmp')];
  for (const t of temps) writeFileSync(t, 'half');
  const r = d2r([...small(dir, 1), '--resume']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /rewrote .*target\.safetensors from the checkpoint of epoch 1/);
  assert.ok(readFileSync(join(dir, 'target.safetensors')).equals(good));
  for (const t of temps) assert.ok(!existsSync(t), `${t} is removed`);
});

test('a checkpoint pointer or state file that is malformed, or leads outside the run, is refused naming the file', () => {
  const dir = tempDir();
  assert.equal(d2r(small(dir, 1)).status, 0);
  const pointerPath = join(dir, 'checkpoint.json');
  const pointer = readFileSync(pointerPath, 'utf8');
  writeFileSync(pointerPath, JSON.stringify({ epoch: 1, dir: '../../x' }));
  const outside = d2r([...small(dir, 2), '--resume']);
  assert.equal(outside.status, 1, outside.stderr);
  assert.match(outside.stderr, /checkpoint\.json.*dir/s);
  writeFileSync(pointerPath, pointer);

  const statePath = join(dir, 'checkpoints', 'epoch-0001', 'state.json');
  const state = JSON.parse(readFileSync(statePath, 'utf8'));
  for (const epoch of [undefined, 'one']) {
    writeFileSync(statePath, JSON.stringify({ ...state, epoch }));
    const r = d2r([...small(dir, 2), '--resume']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /state\.json.*epoch/s);
    assert.deepEqual(epochLines(dir), [1], 'metrics.jsonl keeps its epochs');
  }
  writeFileSync(statePath, JSON.stringify(state));

  const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
  writeFileSync(join(dir, 'metrics.jsonl'), metrics + '{"type": "epoch", "epoch": \n');
  const m = d2r([...small(dir, 2), '--resume']);
  assert.equal(m.status, 1, m.stderr);
  assert.match(m.stderr, /metrics\.jsonl/);
  writeFileSync(join(dir, 'metrics.jsonl'), metrics);

  writeFileSync(join(dir, 'config.json'), '{"config": ');
  const c = d2r([...small(dir, 2), '--resume']);
  assert.equal(c.status, 1, c.stderr);
  assert.match(c.stderr, /config\.json/);
});
