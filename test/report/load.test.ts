import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRun, ReportError } from '../../src/report/index.js';
import { locateJsonError, readJsonFile } from '../../src/io/json.js';
import { tempDir } from '../helpers/tempDir.js';
import { makeRun } from './fixtures.js';

const rejects = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ReportError, `expected a ReportError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
};

test('a complete run loads: facts, epochs, evaluation, sweep and example images', () => {
  const dir = makeRun({ guidance: true, epochs: 3, examples: 2 });
  const run = loadRun(dir);
  assert.equal(run.label, 'run-a');
  assert.equal(run.facts.seed, 7);
  assert.match(run.facts.command!, /^d2r train --method d2r/);
  assert.deepEqual(
    run.metrics.epochs.map((e) => e.epoch),
    [1, 2, 3],
  );
  assert.equal(run.metrics.epochs[0]!.testRobustAccuracy, null);
  assert.equal(typeof run.metrics.epochs[1]!.guidanceRobustAccuracy, 'number');
  assert.deepEqual(
    run.eval!.attacks.map((a) => a.name),
    ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
  );
  assert.equal(run.eval!.points!.brokenBy!.length, 20);
  assert.deepEqual(
    run.sweep!.points.map((p) => p.epsilon),
    [0, 0.05, 0.1, 0.2],
  );
  const examples = run.examples!.examples!;
  assert.equal(examples.length, 2);
  assert.deepEqual([examples[0]!.clean.channels, examples[0]!.clean.height, examples[0]!.clean.width], [1, 28, 28]);
  assert.equal(examples[1]!.attack, 'apgd-t');
});

test('optional files may be missing; the run still loads', () => {
  const dir = makeRun({ eval: false, sweep: false });
  const run = loadRun(dir);
  assert.equal(run.eval, null);
  assert.equal(run.sweep, null);
  assert.equal(run.examples, null);
});

test('an example file named by eval.json but absent is reported as missing, not as an error', () => {
  const dir = makeRun({ examples: 2 });
  rmSync(join(dir, 'eval-examples.safetensors'));
  const run = loadRun(dir);
  assert.equal(run.examples!.examples, null);
  assert.match((run.examples as { missing: string }).missing, /eval-examples\.safetensors.*does not exist/);
});

test('a resumed run: a second "run" line, repeated epochs keep their last record', () => {
  const dir = makeRun({ epochs: 3, resumeAfter: 2, eval: false, sweep: false });
  appendFileSync(join(dir, 'metrics.jsonl'), JSON.stringify({ type: 'epoch', epoch: 3, trainLoss: 0.123, testCleanAccuracy: 0.9 }) + '\n');
  const run = loadRun(dir);
  assert.equal(run.metrics.segments.length, 2);
  assert.equal(run.metrics.segments[1]!.resumedAfterEpoch, 2);
  assert.deepEqual(
    run.metrics.epochs.map((e) => e.epoch),
    [1, 2, 3],
  );
  assert.equal(run.metrics.epochs[2]!.trainLoss, 0.123);
});

test('a path that is no run directory is refused with a clear message', () => {
  const parent = tempDir();
  rejects(() => loadRun(join(parent, 'nope')), /nope: no such directory/);
  writeFileSync(join(parent, 'file'), 'x');
  rejects(() => loadRun(join(parent, 'file')), /file: not a directory/);
  mkdirSync(join(parent, 'empty'));
  rejects(() => loadRun(join(parent, 'empty')), /empty: no config\.json there; is it a run directory written by d2r train\?/);
  const dir = makeRun({ eval: false, sweep: false }, parent);
  rmSync(join(dir, 'metrics.jsonl'));
  rejects(() => loadRun(dir), /no metrics\.jsonl there/);
});

test('malformed JSON names the file, the line and the column', () => {
  const dir = makeRun({ eval: false, sweep: false });
  const config = join(dir, 'config.json');
  const text = readFileSync(config, 'utf8');
  writeFileSync(config, text.replace('"seed": 7,', '"seed": 7,,'));
  const line = text.split('\n').findIndex((l) => l.includes('"seed": 7,')) + 1;
  rejects(() => loadRun(dir), new RegExp(`config\\.json line ${line}, column \\d+: malformed JSON: expected a property name`));
});

test('a malformed line of metrics.jsonl is named by its line number', () => {
  const dir = makeRun({ epochs: 3, eval: false, sweep: false });
  const metrics = join(dir, 'metrics.jsonl');
  const lines = readFileSync(metrics, 'utf8').trimEnd().split('\n');
  lines[2] = lines[2]!.slice(0, 40); // a torn write
  writeFileSync(metrics, lines.join('\n') + '\n');
  rejects(() => loadRun(dir), /metrics\.jsonl line 3, column 41: malformed JSON: (unterminated string|expected)/);
});

test('a field of the wrong type names the file, the line and the field', () => {
  const dir = makeRun({ epochs: 2, eval: false, sweep: false });
  appendFileSync(join(dir, 'metrics.jsonl'), JSON.stringify({ type: 'epoch', epoch: 3, trainLoss: 'low' }) + '\n');
  rejects(() => loadRun(dir), /metrics\.jsonl line 4: 'trainLoss' should be a number, found string "low"/);

  const other = makeRun({ sweep: false });
  const evalPath = join(other, 'eval.json');
  const ev = JSON.parse(readFileSync(evalPath, 'utf8')) as { attacks: { robustAccuracy: unknown }[] };
  ev.attacks[2]!.robustAccuracy = null;
  writeFileSync(evalPath, JSON.stringify(ev));
  rejects(() => loadRun(other), /eval\.json: 'attacks\[2\]\.robustAccuracy' should be a number, found null/);
});

test('eval.json arrays of different lengths and an epoch before any "run" line are refused', () => {
  const dir = makeRun({ sweep: false, examples: 0 });
  const evalPath = join(dir, 'eval.json');
  const ev = JSON.parse(readFileSync(evalPath, 'utf8')) as { points: { robust: boolean[] } };
  ev.points.robust.pop();
  writeFileSync(evalPath, JSON.stringify(ev));
  rejects(() => loadRun(dir), /eval\.json: 'points\.robust' has 19 entries, 'points\.index' has 20/);

  const run = makeRun({ eval: false, sweep: false });
  writeFileSync(join(run, 'metrics.jsonl'), JSON.stringify({ type: 'epoch', epoch: 1 }) + '\n');
  rejects(() => loadRun(run), /metrics\.jsonl line 1: an "epoch" line before the first "run" line/);
});

test('locateJsonError finds where and why text is not JSON', () => {
  assert.deepEqual(locateJsonError('{"a": }'), { offset: 6, reason: 'expected a value, found "}"' });
  assert.deepEqual(locateJsonError('[1, 2'), { offset: 5, reason: "expected ',' or ']', found the end of the input" });
  assert.equal(locateJsonError('{"a": "b\n"}').reason, 'control character in string (newlines must be written \\n)');
  assert.equal(locateJsonError('{"a": 01}').offset, 7);
  assert.equal(locateJsonError('{} x').reason, 'unexpected "x" after the JSON value');
  assert.equal(locateJsonError("{'a': 1}").reason, 'expected a property name in double quotes, found "\'"');
  const dir = tempDir();
  writeFileSync(join(dir, 'x.json'), '{\n  "a": 1\n  "b": 2\n}\n');
  assert.throws(() => readJsonFile(join(dir, 'x.json')), /x\.json line 3, column 3: malformed JSON: expected ',' or '}', found "\\""/);
});
