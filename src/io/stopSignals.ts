// The signals that ask a long run to stop: SIGINT (Ctrl-C) and SIGTERM (kill,
// a job scheduler, a container stopping). A run that watches them finishes its
// batch, saves its progress, releases its lock and exits with the shell's code
// for the signal, instead of dying mid-write.
import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM';

const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

export interface StopWatch {
  /** The first stop signal received, or null. */
  readonly signal: StopSignal | null;
  /** Stops watching (the signals' default action applies again). */
  dispose(): void;
}

/**
 * Records the first SIGINT or SIGTERM (and tells `onStop`) until disposed. The
 * handlers run only when the event loop does: a synchronous loop must yield
 * between steps for them to see a signal. After the first signal the default
 * action is back, so a second one ends the process at once, unless
 * `keepWatching` (a worker of a data-parallel run, which hears the same interrupt
 * from the terminal and from its launcher, and must stop with its peers).
 */
export function watchStopSignals(onStop?: (signal: StopSignal) => void, { keepWatching = false } = {}): StopWatch {
  let received: StopSignal | null = null;
  const dispose = (): void => {
    for (const s of STOP_SIGNALS) process.removeListener(s, handler);
  };
  const handler = (signal: StopSignal): void => {
    if (received !== null) return;
    if (!keepWatching) dispose();
    received = signal;
    onStop?.(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return {
    get signal() {
      return received;
    },
    dispose,
  };
}

/** The shell's exit status of a command stopped by `signal`: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
export function exitCodeFor(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/** Lets the event loop run (and the signal handlers with it) between steps of synchronous libtorch work. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs a computation written as steps (a generator that yields between batches)
 * to its end, letting the event loop run between steps; ends it early and
 * returns null once a stop signal has arrived.
 */
export async function runUntilStopped<T>(steps: Generator<void, T, void>, stop: StopWatch): Promise<T | null> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldToEventLoop();
    if (stop.signal !== null) {
      steps.return(undefined as T);
      return null;
    }
  }
}
