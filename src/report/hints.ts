// The commands that produce a run's missing files, for the report to suggest.
import type { Run } from './load.js';
import { shellWord } from '../io/runFacts.js';

export { shellWord };

/** The recorded training command, else one rebuilt from the main settings. */
export function trainHint(run: Run): string {
  if (run.facts.command) return run.facts.command;
  const words = ['d2r', 'train'];
  for (const key of ['method', 'model', 'guidance', 'dataset', 'epochs', 'epsilon', 'norm', 'seed']) {
    const v = run.facts.config[key];
    if (typeof v === 'string' || typeof v === 'number') words.push(`--${key}`, shellWord(String(v)));
  }
  words.push('--out', shellWord(run.dir));
  return words.join(' ');
}

/** The evaluation; it also writes the examples the gallery shows. */
export function evalHint(run: Run): string {
  return `d2r eval --checkpoint ${shellWord(run.dir)} --attacks autoattack`;
}

/** The run's own budget with a few below and above it (default 8/255 where the run has none). */
export function sweepHint(run: Run): string {
  const eps = typeof run.facts.config['epsilon'] === 'number' ? run.facts.config['epsilon'] : 8 / 255;
  const list = [0, 0.25, 0.5, 1, 1.5, 2].map((k) => Number((k * eps).toPrecision(3)));
  return `d2r eval --checkpoint ${shellWord(run.dir)} --eps-sweep ${list.join(',')}`;
}
