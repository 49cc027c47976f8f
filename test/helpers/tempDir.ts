// The tests' one way to get a scratch directory. Each is removed when the test
// process exits (node --test runs every test file in a process of its own), so
// a test run leaves nothing behind in the system's temp dir, whichever test
// made the directory and however it ended. D2R_KEEP_TEST_DIRS=1 keeps them, to
// look at what a failing test wrote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

function removeMade(): void {
  if (process.env.D2R_KEEP_TEST_DIRS === '1') return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh directory under the system temp dir, removed when this process exits. */
export function tempDir(prefix = 'd2r-test-'): string {
  if (made.length === 0) process.once('exit', removeMade);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
