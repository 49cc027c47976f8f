// The progress lines of long work written to a file or a pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Progress } from '../../src/cli/progress.js';

function captured(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

test('a resumed epoch or evaluation counts on from where it stopped; the rate counts only the work of this process', () => {
  const out = captured();
  const bar = new Progress('epoch 4/8', 469, 'batch', 303, out.stream);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // at least 50 ms for the first batch
  bar.tick(1, { loss: 1.5 });
  bar.tick(165);
  bar.finish();
  const lines = out.text().trimEnd().split('\n');
  assert.match(lines[0]!, /^epoch 4\/8 304\/469 \(65%\) [\d.]+ batch\/s ETA \S+ {2}loss 1\.5000$/);
  assert.match(lines.at(-2)!, /^epoch 4\/8 469\/469 \(100%\)/);
  assert.match(lines.at(-1)!, /^epoch 4\/8 done: 469 batch \(166 after resuming at 303\) in /);
  // One batch in 50 ms or more: at most 20 batch/s (the 303 of before counted would make it about 6,000).
  const rate = Number(lines[0]!.match(/ ([\d.]+) batch\/s/)![1]);
  assert.ok(rate <= 20, lines[0]);
});

test('a fresh bar starts at zero', () => {
  const out = captured();
  const bar = new Progress('pgd20', 10, 'pt', 0, out.stream);
  bar.tick(10);
  bar.finish();
  assert.match(out.text(), /^pgd20 10\/10 \(100%\)/);
  assert.doesNotMatch(out.text(), /resuming/);
});
