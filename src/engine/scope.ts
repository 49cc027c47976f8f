// Memory scopes: tidy(fn) disposes every tensor created inside fn except what
// fn returns and what was kept. Finalizers are only the safety net, and only
// tensors no scope holds get one (see collectWhenUnreachable); loops of
// thousands of steps stay flat because of these scopes (and the loop idiom of
// loop.ts, built on them). docs/memory.md tells the rules.

/** Anything the scope machinery can dispose. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  /** Set by keep(): the tensor outlives every scope. */
  kept: boolean;
  /**
   * Called once no scope holds the tensor (made outside every scope, kept, or
   * returned from the outermost one): from then on the garbage collector frees
   * it if nobody disposes it. A tensor a scope holds is reachable until the
   * scope disposes it, so it needs no finalizer before.
   */
  collectWhenUnreachable(): void;
}

const stack: Disposable[][] = [];

/** Puts t in the innermost scope; false when no scope is open. */
export function track(t: Disposable): boolean {
  const top = stack[stack.length - 1];
  if (top === undefined) return false;
  top.push(t);
  return true;
}

/** Marks t to survive every enclosing scope; the caller disposes it. */
export function keep<T extends Disposable>(t: T): T {
  t.kept = true;
  return t;
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Disposable).dispose === 'function' && 'kept' in v;
}

/**
 * Every tensor reachable from value: through arrays, Maps, Sets, plain objects
 * and class instances (their own data properties; getters are not called).
 * Closures and #private fields cannot be searched: hold tensors there only
 * with keep() and a dispose of your own.
 */
export function tensorsIn(value: unknown): Set<Disposable> {
  const found = new Set<Disposable>();
  collect(value, found, new Set());
  return found;
}

function collect(value: unknown, into: Set<Disposable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isDisposable(value)) {
    into.add(value);
    return;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return; // numbers only, possibly millions
  if (Array.isArray(value) || value instanceof Set) {
    for (const v of value) collect(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, seen);
  } else {
    // Plain objects and class instances alike: a tensor held in a field survives like one in an object literal.
    for (const d of Object.values(Object.getOwnPropertyDescriptors(value))) if ('value' in d) collect(d.value, into, seen);
  }
}

/**
 * Runs fn in a new scope. Tensors created inside are disposed when it returns,
 * except those reachable from its result (see tensorsIn) and those passed to
 * keep(). Returned tensors move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Disposable[] = [];
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of scope) {
      if (t.kept) t.collectWhenUnreachable();
      else t.dispose();
    }
    throw err;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.collectWhenUnreachable();
    throw new Error('tidy(fn): fn must be synchronous; the tensors it creates after an await cannot be tracked');
  }
  const survivors = tensorsIn(result);
  const parent = stack[stack.length - 1];
  for (const t of scope) {
    if (!t.kept && !survivors.has(t)) t.dispose();
    else if (!t.kept && parent !== undefined) parent.push(t);
    else t.collectWhenUnreachable();
  }
  return result;
}

/** Disposes every tensor found in value (see tensorsIn), kept ones included. */
export function dispose(value: unknown): void {
  for (const t of tensorsIn(value)) t.dispose();
}
