// experiments/study-results.ts on a tiny fake study folder: two finished
// one-epoch runs, one in progress; the page lists results only for the finished
// ones (a run still evaluating: what its evaluations hold so far, for its weights only),
// a rerun keeps the evaluations, the multi-run report lies beside the page,
// the committed copy of the study restores it elsewhere with its evaluations,
// and runs under different settings are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

const SCRIPT = fileURLToPath(new URL('../../experiments/study-results.js', import.meta.url));
const STORE_SCRIPT = fileURLToPath(new URL('../../../experiments/study-store.sh', import.meta.url));

function studyStore(store: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [STORE_SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, STUDY_STORE: store } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function studyResults(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('study-results evaluates the finished runs, lists unfinished ones as in progress, and is resumable', () => {
  const root = tempDir('d2r-study-');
  const study = join(root, 'study');
  for (const name of ['standard', 'pgd-at']) {
    const r = d2r(trainArgs(join(study, name), { limit: 200 }));
    assert.equal(r.status, 0, r.stderr);
  }
  // A run that has started but finished no epoch.
  const unfinished = join(study, 'trades');
  mkdirSync(unfinished);
  copyFileSync(join(study, 'standard', 'config.json'), join(unfinished, 'config.json'));
  const runLines = readFileSync(join(study, 'standard', 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"type":"run"'));
  writeFileSync(join(unfinished, 'metrics.jsonl'), runLines.join('\n') + '\n');

  const out = join(root, 'docs', 'results', 'fashion-mnist.md');
  // apgd-ce stands in for the AutoAttack suite, to keep the test short.
  const args = ['--study', study, '--out', out, '--n', '6', '--autoattack', 'apgd-ce', '--threads', '1'];
  const first = studyResults(args);
  assert.equal(first.status, 0, first.stderr);
  const md = readFileSync(out, 'utf8');
  const row = (name: string): string[] => {
    const line = md.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(line, `a row for ${name}`);
    return line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  };
  for (const name of ['standard', 'pgd-at']) {
    const [, , epochs, clean, pgd, cw, aa, worst] = row(name);
    assert.equal(epochs, '1/1');
    const values = [clean, pgd, cw, aa, worst].map(Number);
    assert.ok(
      values.every((v) => v >= 0 && v <= 100),
      `${name}: ${values}`,
    );
    assert.ok(values[4]! <= Math.min(values[1]!, values[2]!, values[3]!), `${name}: the worst case is at most each attack`);
    for (const file of ['eval-pgd20.json', 'eval-cw20.json', 'eval.json']) assert.ok(existsSync(join(study, name, file)), file);
  }
  assert.equal(row('trades')[2], 'in progress (epoch 0/1)');
  assert.deepEqual(row('trades').slice(3).filter(Boolean), [], 'an unfinished run has no results');
  assert.equal(existsSync(join(unfinished, 'eval.json')), false);
  assert.equal(row('d2r')[2], 'not started');
  assert.match(md, /d2r eval --checkpoint \S+standard --n 6 --attacks cw20 --seed 0 --protocol ours/);
  assert.match(md, /seed 0/);
  assert.match(md, /\| apgd-ce \(not the full AutoAttack\) \|/);
  const report = join(root, 'docs', 'results', 'fashion-mnist');
  assert.ok(existsSync(join(report, 'index.html')) && existsSync(join(report, 'curves.png')));

  // A rerun keeps the evaluations it already has.
  const before = statSync(join(study, 'standard', 'eval.json')).mtimeMs;
  const second = studyResults(args);
  assert.equal(second.status, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /\$ d2r eval/);
  assert.equal(statSync(join(study, 'standard', 'eval.json')).mtimeMs, before);

  // The committed copy (experiments/study-store.sh) restores the study elsewhere: its files come back with new
  // modification times, and the evaluations are still taken as those of the weights, by the hashes they record.
  const store = join(root, 'store');
  mkdirSync(join(store, '.saving.standard.left-by-a-killed-save'), { recursive: true });
  mkdirSync(join(store, '.saving.d2r-no-clean.another-run'));
  const saved = studyStore(store, ['save', study]);
  assert.equal(saved.status, 0, saved.stderr);
  assert.deepEqual(
    readdirSync(store).sort(),
    ['.saving.d2r-no-clean.another-run', 'pgd-at', 'standard', 'trades'],
    "a run's leftover copy goes, only its own",
  );
  assert.deepEqual(readdirSync(join(store, 'standard', 'checkpoints')), ['epoch-0001'], 'only the checkpoint the pointer names');
  const moved = join(root, 'moved');
  assert.equal(studyStore(store, ['restore', moved]).status, 0);
  assert.deepEqual(readdirSync(moved).sort(), ['pgd-at', 'standard', 'trades']);
  // A named run only, and never over a run that is there.
  const one = join(root, 'one');
  assert.equal(studyStore(store, ['restore', one, 'trades']).status, 0);
  assert.deepEqual(readdirSync(one), ['trades']);
  const again = studyStore(store, ['restore', one, 'trades']);
  assert.match(again.stdout, /kept \S+trades \(already there\)/);
  const later = new Date(Date.now() + 60_000);
  for (const name of ['standard', 'pgd-at']) utimesSync(join(moved, name, 'checkpoints', 'epoch-0001', 'target.safetensors'), later, later);
  // Other weights in pgd-at's checkpoint (one value changed): its evaluations no longer describe the run.
  const weightsFile = join(moved, 'pgd-at', 'checkpoints', 'epoch-0001', 'target.safetensors');
  const bytes = readFileSync(weightsFile);
  bytes[bytes.length - 1]! ^= 0x40;
  writeFileSync(weightsFile, bytes);
  const movedOut = join(root, 'moved.md');
  const restored = studyResults([...args.map((a) => (a === study ? moved : a === out ? movedOut : a)), '--page-only']);
  assert.equal(restored.status, 0, restored.stderr);
  const movedPage = readFileSync(movedOut, 'utf8');
  assert.equal(
    movedPage.split('\n').find((l) => l.startsWith('| `standard` |')),
    md.split('\n').find((l) => l.startsWith('| `standard` |')),
  );
  const cells = (page: string, name: string): string[] =>
    page
      .split('\n')
      .find((l) => l.startsWith(`| \`${name}\` |`))!
      .split('|')
      .slice(3, -1)
      .map((c) => c.trim());
  assert.deepEqual(
    cells(movedPage, 'pgd-at').slice(0, 6),
    ['1/1, evaluation in progress', '', '', '', '', ''],
    'no results of other weights',
  );
  assert.match(cells(movedPage, 'pgd-at')[6]!, / (min|h)$/, 'the training time is there');
  // An AutoAttack under way: its state file (d2r eval's, keyed by the settings and the weights' sha256) gives the
  // clean accuracy and an upper bound, but only for these weights.
  const stateFile = (weightsSha256: string): string =>
    JSON.stringify({
      format: 'd2r-evaluation-state',
      version: 1,
      key: JSON.stringify({ settings: { n: 6, seed: 0, protocol: 'ours', attacks: ['apgd-ce'] }, weightsSha256 }),
      cleanCorrect: [true, true, true, true, false, false],
      attacks: [{ name: 'apgd-ce', robustAccuracy: 0.5, seconds: 1 }],
    });
  const pageWithState = (weightsSha256: string | null): string => {
    writeFileSync(
      join(moved, 'pgd-at', 'eval.state.json'),
      weightsSha256 === null ? '{"format": "d2r-evaluation-st' : stateFile(weightsSha256),
    );
    const r = studyResults([...args.map((a) => (a === study ? moved : a === out ? movedOut : a)), '--page-only']);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(movedOut, 'utf8');
  };
  assert.deepEqual(cells(pageWithState('0'.repeat(64)), 'pgd-at').slice(1, 5), ['', '', '', ''], 'a state of other weights is left out');
  assert.deepEqual(cells(pageWithState(null), 'pgd-at').slice(1, 5), ['', '', '', ''], 'a torn state file shows as no progress');
  const sha = createHash('sha256').update(bytes).digest('hex');
  assert.deepEqual(cells(pageWithState(sha), 'pgd-at').slice(1, 6), ['66.67', '', '', '≤ 50.00 (after apgd-ce)', '']);
  // A study still being written is not saved: a live process holds the run's lock.
  const writer = spawn('sleep', ['30']);
  writeFileSync(join(study, 'trades', '.d2r.lock'), JSON.stringify({ pid: writer.pid, host: 'here', startedAt: new Date().toISOString() }));
  const busy = studyStore(store, ['save', study]);
  writer.kill();
  assert.equal(busy.status, 1);
  assert.match(busy.stderr, /trades is being written by process \d+ .*pause it/);

  // A run under another batch size is not comparable: the page is refused, the old one kept.
  const config = JSON.parse(readFileSync(join(unfinished, 'config.json'), 'utf8')) as { config: Record<string, unknown> };
  writeFileSync(join(unfinished, 'config.json'), JSON.stringify({ ...config, config: { ...config.config, batchSize: 16 } }));
  const page = readFileSync(out, 'utf8');
  const mixed = studyResults(args);
  assert.equal(mixed.status, 1);
  assert.match(mixed.stderr, /trades[/\\]config\.json: batchSize is 16, but the study's standard run has 64/);
  assert.equal(readFileSync(out, 'utf8'), page);
});

test('a run resumed with another --epochs is kept only when every epoch it trained had the final schedule’s lr', () => {
  const root = tempDir('d2r-study-');
  const train = (study: string, epochs: number, resume = false): void => {
    const out = join(root, study, 'standard');
    const r = d2r(
      resume ? ['train', '--resume', '--epochs', String(epochs), '--out', out] : trainArgs(out, { recipe: 'shared', epochs, evalN: 0 }),
    );
    assert.equal(r.status, 0, r.stderr);
  };
  const page = (study: string): { status: number | null; stderr: string; md: string } => {
    const out = join(root, `${study}.md`);
    const r = studyResults(['--study', join(root, study), '--out', out, '--page-only']);
    return { ...r, md: existsSync(out) ? readFileSync(out, 'utf8') : '' };
  };
  // Shared recipe: 1 epoch is [0.002], 2 epochs [0.002, 0.01]: epoch 1 trained alike.
  train('same', 1);
  train('same', 2, true);
  const same = page('same');
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.md, /`standard` \(`--epochs 1` to `--epochs 2` after epoch 1\)/);
  assert.match(same.md, /--epochs 1 [^\n]*--out \S+standard\nd2r train --resume --epochs 2 --out \S+standard {3}# after epoch 1\n/);
  // 3 epochs are [0.002, 0.01, 0.001], 4 epochs [0.002, 0.01, 0.01, 0.001]: epoch 3 trained at a tenth of the final lr.
  train('other', 3);
  train('other', 4, true);
  const other = page('other');
  assert.equal(other.status, 1);
  assert.match(
    other.stderr,
    /standard[/\\]metrics\.jsonl line 1: this start planned 3 epochs and trained epoch 3 at lr 0\.001, but the run's 4-epoch schedule gives it 0\.01/,
  );
  assert.equal(other.md, '', 'no page is written');
});

test('the page says whether the curves flattened at the peak lr, apart from the gain of the lr drop', () => {
  const root = tempDir('d2r-study-');
  const run = join(root, 'study', 'standard');
  const r = d2r(trainArgs(run, { recipe: 'shared', limit: 200 }));
  assert.equal(r.status, 0, r.stderr);
  // The run, rewritten as 8 epochs of the shared recipe (lr/5, the peak lr for epochs 2-6, then /10 and /100) with the curves given.
  const withEpochs = (facts: { config: Record<string, unknown> }): object => ({ ...facts, config: { ...facts.config, epochs: 8 } });
  writeFileSync(join(run, 'config.json'), JSON.stringify(withEpochs(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')))));
  const rows = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const runRow = rows.find((row) => row['type'] === 'run') as { config: Record<string, unknown> };
  const epochRow = rows.find((row) => row['type'] === 'epoch')!;
  const peak = epochRow['lr'] as number;
  const lrs = [peak / 5, peak, peak, peak, peak, peak, peak / 10, peak / 100];
  const page = (clean: number[]): string => {
    const epochs = clean.map((c, i) => ({
      ...epochRow,
      epoch: i + 1,
      lr: lrs[i],
      testCleanAccuracy: c / 100,
      testRobustAccuracy: c / 200,
    }));
    writeFileSync(join(run, 'metrics.jsonl'), [withEpochs(runRow), ...epochs].map((row) => JSON.stringify(row)).join('\n') + '\n');
    const out = join(root, 'page.md');
    const p = studyResults(['--study', join(root, 'study'), '--out', out, '--page-only']);
    assert.equal(p.status, 0, p.stderr);
    return (
      readFileSync(out, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('- Have the curves flattened?')) ?? ''
    );
  };
  // A dip in epoch 4 is not a climb: epoch 6 is measured against the best of epochs 4 and 5.
  const flat = page([30, 70, 74, 66, 75, 75.5, 79, 79.4]);
  assert.match(flat, /beat the best of the 2 before it by more than 0\.5 points \(`standard`, clean, epochs 5 to 6\)/);
  assert.match(flat, /the lr drop after them added up to 3\.9 points \(`standard`, clean, epochs 6 to 8\)/);
  assert.match(flat, /between the last two epochs no run moves by more than 0\.4 points/);
  assert.match(flat, /So the curves had flattened at the peak lr/);
  // Still making new highs at the peak lr.
  const rising = page([30, 60, 64, 68, 72, 76, 79, 79.4]);
  assert.match(rising, /by more than 4\.0 points \(`standard`, clean, epochs 5 to 6\)/);
  assert.match(rising, /So not every curve had flattened at the peak lr/);
  // Falling at the peak lr: no new high at all (PGD, at half the clean values, falls least).
  assert.match(
    page([30, 70, 74, 76, 75, 74, 79, 79.4]),
    /beat the best of the 2 before it at all \(the closest: -1\.0 points \(`standard`, PGD, epochs 4 to 6\)\)/,
  );
});
