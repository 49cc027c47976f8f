// The loop idiom of every iterative algorithm here (attacks, adversarial
// generation): a state of tensors goes in, the next state comes out, and
// between two steps only the current state is alive. docs/memory.md explains.
import { tensorsIn, tidy } from './scope.js';

/** A step returns STOP to end the loop early; the state it was given is then the result. */
export const STOP: unique symbol = Symbol('iterate: stop');

/**
 * Runs step 0, 1, ... steps - 1 on a state and returns the last state. The
 * state is anything tensorsIn can search (a tensor, an array, a plain object,
 * a class instance). Each step runs in its own scope: what it creates and does
 * not put in the new state is disposed when it returns, and so are the
 * tensors of the old state the new state no longer holds (the state of step
 * k - 1 is freed once step k has run). A step may also update the state's
 * tensors in place and return the same state.
 *
 * The loop owns the initial state: its tensors are disposed once dropped, so
 * pass tensors made for the loop (x.detach() is a new handle; x is not).
 * Kept tensors (keep()) are never disposed. The result moves to the caller's
 * scope; on an error everything the steps created is disposed.
 */
export function iterate<S>(initial: S, steps: number, step: (state: S, k: number) => S | typeof STOP): S {
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`iterate: steps must be a non-negative integer, got ${steps}`);
  // The loop's own scope: the states of all steps are tracked here, not in the caller's scope.
  return tidy(() => {
    let state = initial;
    for (let k = 0; k < steps; k++) {
      const held = tensorsIn(state); // before the step: it may replace tensors inside the state's objects
      const current = state;
      const next = tidy(() => step(current, k));
      if (next === STOP) break;
      const stillHeld = tensorsIn(next);
      for (const t of held) if (!stillHeld.has(t) && !t.kept) t.dispose();
      state = next;
    }
    return state;
  });
}
