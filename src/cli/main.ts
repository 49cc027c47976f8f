#!/usr/bin/env node
// The `d2r` command line: train, eval, report.
import { UsageError, didYouMean, usageErrorFrom } from './flags.js';
import { OptionError } from '../io/errors.js';
import { packageVersion } from '../io/runFacts.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { reportCommand } from './report.js';
import { convertCommand } from './convert.js';

/** A command runs to completion; it may return an exit code other than 0 for a run that stopped short. */
const COMMANDS: Record<string, { summary: string; run: (argv: string[]) => void | Promise<void | number> }> = {
  train: { summary: 'train a model (standard or adversarial training)', run: trainCommand },
  eval: { summary: 'evaluate a trained model: clean and robust accuracy', run: evalCommand },
  report: { summary: 'HTML report of a run, or a comparison of several', run: reportCommand },
  convert: { summary: 'convert weights between torch.save (.pt/.pth) and safetensors', run: convertCommand },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `Usage: d2r <command> [flags]\n\nCommands:\n${rows.join('\n')}\n\nRun 'd2r <command> --help' (or -h) for the flags of a command; 'd2r --version' for the version.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`d2r ${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`d2r: unknown command '${name}'${didYouMean(name, Object.keys(COMMANDS))}\n\n${usage()}`);
    return 2;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (caught) {
    // A setting the library refused is a usage error: named by its flag.
    const err = caught instanceof OptionError ? usageErrorFrom(caught) : caught;
    if (err instanceof UsageError) {
      process.stderr.write(`d2r ${name}: ${err.message}\nRun 'd2r ${name} --help' for the flags.\n`);
      return 2;
    }
    process.stderr.write(`d2r ${name}: ${(err as Error).message}\n`);
    if (process.env.D2R_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
