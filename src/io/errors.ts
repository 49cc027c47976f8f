// The errors library code throws about its inputs, in the library's own terms:
// a setting by its option name, a file by its path. The CLI maps option names
// to flags and both kinds to exit codes.

/** How a setting is named in a message: 'epochs' by the library, '--epochs' by the command line. */
export type OptionNamer = (option: string) => string;

const settingName: OptionNamer = (option) => `setting '${option}'`;

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
    super();
    // A subclass describes itself once its own fields are set.
    if (new.target === OptionError) this.message = this.describe(settingName);
  }

  /** The message with the settings named by `name`. */
  describe(name: OptionNamer): string {
    return `${this.source ? `${this.source}: ` : ''}${name(this.option)}: expected ${this.expected}, got ${this.found}`;
  }
}

/** A setting that another one's value requires, and that is missing. */
export class MissingOptionError extends OptionError {
  override name = 'MissingOptionError';
  constructor(
    option: string,
    /** What the missing setting is. */
    readonly what: string,
    readonly because: { option: string; value: string },
  ) {
    super(option, what, 'none');
    this.message = this.describe(settingName);
  }

  override describe(name: OptionNamer): string {
    return `${name(this.because.option)} ${this.because.value} needs ${name(this.option)} (${this.what})`;
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
