// A full garbage collection on demand, for tests that count live tensor handles: handles
// a test left to the collector are freed before it counts, not in the middle.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
