// The errors library code throws about its inputs, in the library's own terms:
// a setting by its option name, a file by its path. The CLI maps option names
// to flags and both kinds to exit codes.

/** A setting with a value it cannot take. `option` is the camelCase option name (e.g. 'guidanceMode'). */
export class OptionError extends Error {
  override name = 'OptionError';
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly found: string,
    /** Where the value came from when not the option itself (e.g. a config file). */
    readonly source?: string,
  ) {
    super(`${source ? `${source}: ` : ''}setting '${option}': expected ${expected}, got ${found}`);
  }
}

/**
 * A problem with a file the user can fix (missing, malformed JSON, a field of
 * the wrong type). The message always names the file, and the line and field
 * where there are some.
 */
export class RunFileError extends Error {
  override name = 'RunFileError';
}
