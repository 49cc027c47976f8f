// The errors of the collectives (part of the engine, below io), so these are its own
// classes; the CLI maps them to messages and exit codes like io's.

/**
 * A collective or the rendezvous failed: a peer died, did not join, or did not
 * answer within the group's timeout. `rank` is the first rank found to have
 * failed (undefined when none could be named: every rank was alive but one
 * was stuck or called a different collective).
 */
export class DistributedError extends Error {
  override name = 'DistributedError';
  readonly rank: number | undefined;
  constructor(
    message: string,
    /** Every rank found to have failed, ascending. */
    readonly failedRanks: readonly number[] = [],
  ) {
    super(message);
    this.rank = failedRanks[0];
  }
}

/**
 * An initProcessGroup setting with a value it cannot take. `source` is the
 * environment variable the value came from, when it came from one.
 */
export class DistributedOptionError extends Error {
  override name = 'DistributedOptionError';
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly found: string,
    readonly source?: string,
  ) {
    super(`initProcessGroup: ${option}${source ? ` (from environment variable ${source})` : ''}: expected ${expected}, got ${found}`);
  }
}

/** The native layer's error for a failed collective, as a DistributedError; other errors pass through. */
export function asDistributedError(err: unknown): unknown {
  if (err instanceof Error && (err as { distributed?: boolean }).distributed === true) {
    return new DistributedError(err.message, (err as { failedRanks?: number[] }).failedRanks ?? []);
  }
  return err;
}

/** Runs a native collective; a failed one throws a DistributedError. */
export function collective<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw asDistributedError(err);
  }
}
