// Autograd machinery: functional grad (like torch.autograd.grad), second
// derivatives through createGraph, allowUnused, retained graphs, backward()
// accumulation, grad modes (noGrad / enableGrad) and zeroGrad.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';

const near = (actual: number[], expected: number[], tol = 1e-6): void =>
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `[${i}] got ${v}, expected ${expected[i]}`));

test('grad of several outputs and inputs with gradOutputs matches torch.autograd.grad', () => {
  torch.manualSeed(1);
  const x = torch.randn([3, 4]).requiresGrad_();
  const w = torch.randn([4, 2]).requiresGrad_();
  const v = torch.randn([3, 2]);
  const y1 = x.matmul(w).tanh();
  const y2 = x.pow(2).sum();
  const [gx, gw] = torch.grad([y1, y2], [x, w], { gradOutputs: [v, torch.tensor(0.5)] });
  const ref = pytorch('engine.py', 'grad_of_two_outputs', { x: x.detach(), w: w.detach(), v });
  assertClose(gx!, ref['gx']!, { what: 'd/dx' });
  assertClose(gw!, ref['gw']!, { what: 'd/dw' });
  assert.equal(x.grad, null, 'grad() leaves .grad untouched');
});

test('createGraph gives differentiable gradients: second derivatives and mixed partials', () => {
  const xs = [0.3, -1.2, 2];
  const ys = [1.5, 0.5, -2];
  const x = torch.tensor(xs, { dtype: 'float64' }).requiresGrad_();
  const y = torch.tensor(ys, { dtype: 'float64' }).requiresGrad_();
  const f = x.sin().mul(y).add(x.pow(3)).sum(); // df/dx = cos(x) y + 3x^2
  const [gx] = torch.grad(f, x, { createGraph: true });
  assert.equal(gx!.requiresGrad, true);
  near(
    gx!.toNumbers(),
    xs.map((a, i) => Math.cos(a) * ys[i]! + 3 * a * a),
  );
  const [gxx, gxy] = torch.grad(gx!.sum(), [x, y]);
  near(
    gxx!.toNumbers(),
    xs.map((a, i) => -Math.sin(a) * ys[i]! + 6 * a),
  );
  near(
    gxy!.toNumbers(),
    xs.map((a) => Math.cos(a)),
  );
  const [plain] = torch.grad(x.pow(2).sum(), x);
  assert.equal(plain!.requiresGrad, false, 'without createGraph the gradient is not differentiable');
});

test('allowUnused returns null for an input the output does not depend on, and it is an error otherwise', () => {
  const x = torch.tensor([1, 2]).requiresGrad_();
  const unused = torch.tensor([3]).requiresGrad_();
  const [gx, gu] = torch.grad(x.mul(3).sum(), [x, unused], { allowUnused: true });
  assert.deepEqual(gx!.toNumbers(), [3, 3]);
  assert.equal(gu, null);
  assert.throws(() => torch.grad(x.mul(3).sum(), [x, unused]), /allow_unused|not have been used/);
});

test('a graph is freed after one pass unless retainGraph', () => {
  const x = torch.tensor([1, 2]).requiresGrad_();
  const y = x.exp().sum();
  torch.grad(y, x, { retainGraph: true });
  const [again] = torch.grad(y, x);
  near(again!.toNumbers(), [Math.E, Math.E ** 2], 1e-5);
  assert.throws(() => torch.grad(y, x), /backward through the graph a second time|freed/);
});

test('backward accumulates into .grad of leaves; non-leaves keep none unless retainGrad', () => {
  const x = torch.tensor([1.5, -2]).requiresGrad_();
  assert.equal(x.isLeaf, true);
  const hidden = x.mul(2);
  hidden.retainGrad();
  const other = x.mul(3);
  assert.equal(hidden.isLeaf, false);
  hidden.pow(2).sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [12, -16]); // d/dx (2x)^2 = 8x
  assert.deepEqual(hidden.grad!.toNumbers(), [6, -8]);
  x.pow(2).sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [15, -20], 'the second backward adds to the first');
  other.backward(torch.tensor([1, 10]));
  assert.deepEqual(x.grad!.toNumbers(), [18, 10], 'backward with an explicit gradient for a non-scalar');
  assert.throws(() => x.mul(2).backward(), /grad can be implicitly created only for scalar outputs/);
  torch.zeroGrad([x, hidden]);
  assert.equal(x.grad, null);
  assert.equal(hidden.grad, null);
  x.sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [1, 1], 'after zeroGrad accumulation starts afresh');
});

test('backward with createGraph lets .grad itself be differentiated', () => {
  const x = torch.tensor([2, 3], { dtype: 'float64' }).requiresGrad_();
  x.pow(3).sum().backward(undefined, { createGraph: true });
  const g = x.grad!; // 3x^2
  const [gg] = torch.grad(g.sum(), x);
  assert.deepEqual(gg!.toNumbers(), [12, 18]);
});

test('noGrad results do not require grad, enableGrad turns recording back on, modes are restored', () => {
  const x = torch.tensor([1, 2]).requiresGrad_();
  assert.equal(torch.isGradEnabled(), true);
  const inside = torch.noGrad(() => {
    assert.equal(torch.isGradEnabled(), false);
    const plain = x.mul(2);
    const recorded = torch.enableGrad(() => x.mul(2));
    assert.equal(torch.isGradEnabled(), false, 'enableGrad restores the outer mode');
    return { plain, recorded };
  });
  assert.equal(inside.plain.requiresGrad, false);
  assert.equal(inside.recorded.requiresGrad, true);
  assert.equal(torch.isGradEnabled(), true);
  assert.throws(
    () =>
      torch.noGrad(() => {
        throw new Error('inside');
      }),
    /inside/,
  );
  assert.equal(torch.isGradEnabled(), true, 'restored after a throw');
  torch.setGradEnabled(false);
  assert.equal(x.add(1).requiresGrad, false);
  torch.setGradEnabled(true);
  assert.equal(x.add(1).requiresGrad, true);
});

test('detach cuts the graph and requiresGrad can be toggled on leaves', () => {
  const x = torch.tensor([1, 2]).requiresGrad_();
  const d = x.mul(2).detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.isLeaf, true);
  x.requiresGrad = false;
  assert.equal(x.mul(2).requiresGrad, false);
  assert.throws(() => x.mul(2).sum().backward(), /does not require grad/);
});

test('in-place update of a leaf that requires grad is refused outside noGrad, allowed inside', () => {
  const p = torch.tensor([1, 2]).requiresGrad_();
  assert.throws(() => p.add_(1), /leaf Variable that requires grad/);
  torch.noGrad(() => p.add_(torch.tensor([1, 1]), -0.5));
  assert.deepEqual(p.detach().toNumbers(), [0.5, 1.5]);
});
