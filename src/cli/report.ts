// `d2r report RUN [RUN...]`: the HTML report of one run, or a comparison of
// several, with PNG charts next to it. Prints the report's absolute path.
import { helpText, parseFlags, UsageError, withNulls, type FlagSpec } from './flags.js';
import { buildReport } from '../report/index.js';

export const REPORT_FLAGS: FlagSpec[] = [
  {
    name: 'out',
    type: 'string',
    help: 'HTML file, or a directory for index.html (default: RUN/report/index.html; several runs: report/index.html)',
  },
  { name: 'title', type: 'string', help: 'title of the page (default: from the run names)' },
];

interface ReportFlags {
  out: string | null;
  title: string | null;
  positionals: string[];
}

const SUMMARY =
  'Builds a self-contained HTML report of a run written by d2r train (configuration, training curves, ' +
  'accuracy against epsilon, the attack table and adversarial examples), with PNG charts next to it. ' +
  'With several runs, compares them.\n\nArguments: RUN [RUN...]  run directories written by d2r train';

export async function reportCommand(argv: string[]): Promise<void> {
  const parsed = parseFlags(argv, REPORT_FLAGS, { positionals: true });
  if (parsed === null) {
    process.stdout.write(helpText('report', SUMMARY, REPORT_FLAGS));
    return;
  }
  const f = withNulls(REPORT_FLAGS, parsed) as unknown as ReportFlags;
  if (f.positionals.length === 0) throw new UsageError('give at least one run directory (written by d2r train)');
  const files = await buildReport(f.positionals, { out: f.out, title: f.title });
  process.stdout.write(`${files.html}\n`);
}
