// Every problem found while reading a data file names that file, so a broken
// download or a wrong path can be fixed without reading a stack trace.

export class DataFileError extends Error {
  readonly file: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataFileError';
    this.file = file;
  }
}
