// The shared attack pieces: projections (exact bounds), step directions,
// random starts, eval-mode handling, seeding and input checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture } from './fixtures.js';

const min = (t: ReturnType<typeof torch.rand>): number => t.amin().item();
const max = (t: ReturnType<typeof torch.rand>): number => t.amax().item();

test('L-inf projection: inside [x - eps, x + eps] and [0, 1] exactly, equal to PyTorch', () => {
  const { x, inputs } = fixture();
  const far = x.add(torch.randn(x.shape)); // mostly outside the ball and the box
  const p = attacks.project(far, x, 0.1, 'linf');
  // The bounds as float32 computes them: no element may pass them, not even by rounding.
  assert.equal(p.sub(x.add(0.1)).amax().item() <= 0, true);
  assert.equal(p.sub(x.sub(0.1)).amin().item() >= 0, true);
  assert.ok(min(p) >= 0 && max(p) <= 1);
  const ref = pytorch('attacks.py', 'project', { ...inputs, far, eps: 0.1, norm: 'linf' });
  assertClose(p, ref['p']!, { atol: 0, rtol: 0, what: 'linf projection' });
});

test('L2 projection: per-sample norm at most eps, [0, 1] exactly, points inside the ball kept, equal to PyTorch', () => {
  const { x, inputs } = fixture();
  const far = x.add(torch.randn(x.shape));
  const p = attacks.project(far, x, 0.5, 'l2');
  for (const n of attacks.perSampleL2(p.sub(x)).flatten().toNumbers()) assert.ok(n <= 0.5 * (1 + 1e-6), `norm ${n}`);
  assert.ok(min(p) >= 0 && max(p) <= 1);
  const ref = pytorch('attacks.py', 'project', { ...inputs, far, eps: 0.5, norm: 'l2' });
  assertClose(p, ref['p']!, { atol: 1e-6, rtol: 0, what: 'l2 projection' });
  const near = x.add(torch.randn(x.shape).mul(1e-3)).clamp(0, 1);
  assertClose(
    attacks.project(near, x, 0.5, 'l2'),
    { shape: near.shape, dtype: 'float32', data: near.toNumbers() },
    { atol: 0, rtol: 0, what: 'inside the ball' },
  );
});

test('step direction: sign(g) for L-inf, g / ||g||_2 per sample for L2 (a zero gradient gives a zero step)', () => {
  const g = torch.randn([3, 2, 4, 4]).mul(torch.tensor([1, 0, 5]).view([3, 1, 1, 1]));
  assert.deepEqual(attacks.stepDirection(g, 'linf').toNumbers(), g.sign().toNumbers());
  const norms = attacks.perSampleL2(attacks.stepDirection(g, 'l2')).flatten().toNumbers();
  assert.ok(Math.abs(norms[0]! - 1) < 1e-6 && norms[1] === 0 && Math.abs(norms[2]! - 1) < 1e-6, `norms ${norms}`);
});

test('random starts: in the ball (uniform) or on its surface, in [0, 1]; the Gaussian start is x + 0.001 N(0, I), not clamped', () => {
  const { x } = fixture();
  const linf = attacks.randomStart(x, 0.1, 'linf', 'ball');
  assert.ok(max(linf.sub(x).abs()) <= 0.1 + 1e-7 && min(linf) >= 0 && max(linf) <= 1);
  const l2 = attacks.randomStart(x, 0.5, 'l2', 'ball');
  for (const n of attacks.perSampleL2(l2.sub(x)).flatten().toNumbers()) assert.ok(n <= 0.5 + 1e-6);
  // On the surface: before the box clamp every sample is at distance exactly the radius.
  const inside = torch.full(x.shape, 0.5);
  for (const norm of ['linf', 'l2'] as const) {
    const sphere = attacks.randomStart(inside, 0.2, norm, 'sphere');
    for (const n of attacks.perSampleNorm(sphere.sub(inside), norm).toNumbers()) assert.ok(Math.abs(n - 0.2) < 1e-6, `${norm} radius ${n}`);
    const ball = attacks.randomStart(inside, 0.2, norm, 'ball');
    assert.ok(attacks.perSampleNorm(ball.sub(inside), norm).amin().item() < 0.2 - 1e-3, `${norm} ball: some sample strictly inside`);
  }
  torch.manualSeed(3);
  const g = attacks.gaussianStart(x);
  torch.manualSeed(3);
  assert.deepEqual(g.toNumbers(), x.add(torch.randnLike(x).mul(0.001)).toNumbers());
  assert.ok(min(g) < 0 && max(g) > 1, 'x has exact 0s and 1s: the unclamped start leaves the box');
});

test('unitPerSample divides each sample by its norm and leaves a zero sample zero', () => {
  const t = torch.randn([3, 2, 4, 4]).mul(torch.tensor([1, 0, 5]).view([3, 1, 1, 1]));
  for (const norm of ['linf', 'l2'] as const) {
    const sizes = attacks.perSampleNorm(attacks.unitPerSample(t, norm), norm).toNumbers();
    assert.ok(Math.abs(sizes[0]! - 1) < 1e-6 && sizes[1] === 0 && Math.abs(sizes[2]! - 1) < 1e-6, `${norm}: ${sizes}`);
  }
});

test('inEvalMode puts every model in eval mode and restores each previous mode, also on error', () => {
  const { target, guidance } = fixture();
  target.train();
  guidance.eval();
  const seen = attacks.inEvalMode([target, guidance], () => [target.training, guidance.training]);
  assert.deepEqual(seen, [false, false]);
  assert.deepEqual([target.training, guidance.training], [true, false]);
  assert.throws(
    () =>
      attacks.inEvalMode([target, guidance], () => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.deepEqual([target.training, guidance.training], [true, false]);
});

test("withSeed draws reproducibly and leaves the caller's random stream as it was", () => {
  torch.manualSeed(5);
  const expected = torch.rand([4]).toNumbers();
  torch.manualSeed(5);
  const a = attacks.withSeed(9, () => torch.rand([4]).toNumbers());
  const b = attacks.withSeed(9, () => torch.rand([4]).toNumbers());
  assert.deepEqual(a, b);
  assert.deepEqual(torch.rand([4]).toNumbers(), expected);
});

test('checkBatch names what is wrong with x or y', () => {
  const { x, y } = fixture();
  attacks.checkBatch(x, y, 'who');
  assert.throws(() => attacks.checkBatch(x.flatten(1), y, 'who'), /who: expected x as \[N, C, H, W\]/);
  assert.throws(() => attacks.checkBatch(x.mul(255).to('int64'), y, 'who'), /expected float x, got int64/);
  assert.throws(() => attacks.checkBatch(x.mul(255), y, 'who'), /expected x in \[0, 1\]/);
  assert.throws(() => attacks.checkBatch(x.sub(0.5), y, 'who'), /expected x in \[0, 1\]/);
  assert.throws(() => attacks.checkBatch(x, y.to('int32'), 'who'), /expected y as int64 \[6\], got int32/);
  assert.throws(() => attacks.checkBatch(x, y.narrow(0, 0, 5), 'who'), /expected y as int64 \[6\], got int64 \[5\]/);
});
