// Memory scopes: tidy(fn) disposes every tensor created inside fn except what
// fn returns and what was kept. Finalizers on the native handles are only the
// safety net; loops of thousands of steps stay flat because of these scopes.

/** Anything the scope machinery can dispose. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  /** Set by keep(): the tensor outlives every scope. */
  kept: boolean;
}

const stack: Disposable[][] = [];

export function track(t: Disposable): void {
  const top = stack[stack.length - 1];
  if (top !== undefined) top.push(t);
}

/** Marks t to survive every enclosing scope; the caller disposes it. */
export function keep<T extends Disposable>(t: T): T {
  t.kept = true;
  return t;
}

function collect(value: unknown, into: Set<Disposable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isDisposable(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, seen);
  }
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Disposable).dispose === 'function' && 'kept' in v;
}

/**
 * Runs fn in a new scope. Tensors created inside are disposed when it returns,
 * except those reachable from its result (arrays, plain objects and Maps are
 * searched) and those passed to keep(). Returned tensors move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Disposable[] = [];
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of scope) if (!t.kept) t.dispose();
    throw err;
  }
  stack.pop();
  if (result instanceof Promise) {
    throw new Error('tidy(fn): fn must be synchronous; the tensors it creates after an await cannot be tracked');
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors, new Set());
  const parent = stack[stack.length - 1];
  for (const t of scope) {
    if (t.kept) continue;
    if (survivors.has(t)) parent?.push(t);
    else t.dispose();
  }
  return result;
}

/** Disposes every tensor found in value (arrays, plain objects, Maps). */
export function dispose(value: unknown): void {
  const found = new Set<Disposable>();
  collect(value, found, new Set());
  for (const t of found) t.dispose();
}

/**
 * One step of a loop that carries tensors from iteration to iteration: runs
 * step(state) in its own scope, then disposes the tensors of the old state
 * the new one no longer holds, so a long loop runs at flat memory.
 */
export function advance<S>(state: S, step: (s: S) => S): S {
  const next = tidy(() => step(state));
  const kept = new Set<Disposable>();
  collect(next, kept, new Set());
  const old = new Set<Disposable>();
  collect(state, old, new Set());
  for (const t of old) if (!kept.has(t) && !t.kept) t.dispose();
  return next;
}
