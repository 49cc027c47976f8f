// The one error type of the report: a problem with a run's files that the user
// can fix (a missing file, malformed JSON, a field of the wrong type). The
// message always names the file, and the line where there is one. The run
// files' readers throw it too, so it is theirs (src/io/errors.ts).
export { RunFileError as ReportError } from '../io/errors.js';
