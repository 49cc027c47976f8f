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

/** The problems of file-system calls in plain words, by error code. */
const PLAIN_WORDS: Record<string, string> = {
  ENOSPC: 'the disk is full (no space left on the device)',
  EDQUOT: 'the disk quota is used up',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file is in the way',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOENT: 'a folder of the path does not exist (or cannot hold files)',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'an input/output error of the device',
};

/** A file or folder that could not be written or created: the path and the problem in plain words. */
export class FileSystemError extends Error {
  override name = 'FileSystemError';
  constructor(
    /** The path the command meant to write (not a temporary file next to it). */
    readonly path: string,
    /** What was attempted: 'write', 'create the folder', ... */
    readonly action: string,
    /** The system's error code (ENOSPC, EISDIR, ...). */
    readonly code: string,
    problem: string = PLAIN_WORDS[code] ?? code,
  ) {
    super(`cannot ${action} ${path}: ${problem} (${code})`);
  }
}

/** `err` as a FileSystemError about `path` when it is a system error, else unchanged. */
export function fileSystemError(err: unknown, action: string, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (err instanceof FileSystemError || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  return new FileSystemError(path, action, code, PLAIN_WORDS[code] ?? (err as Error).message);
}
