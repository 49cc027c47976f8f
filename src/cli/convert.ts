// `d2r convert IN OUT`: weights between torch.save archives (.pt/.pth) and
// safetensors. The output's format is its extension's; the input's is its content.
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { readWeightsFile, saveTorchSave } from '../io/torchSave.js';
import { saveSafetensors } from '../io/safetensors.js';
import { helpText, parseFlags, UsageError } from './flags.js';

const OUTPUT_FORMATS: Record<string, 'safetensors' | 'torch.save'> = {
  '.safetensors': 'safetensors',
  '.pt': 'torch.save',
  '.pth': 'torch.save',
};

export function convertCommand(argv: string[]): void {
  const parsed = parseFlags(argv, [], { positionals: true });
  if (parsed === null) {
    process.stdout.write(
      helpText(
        'convert IN OUT',
        'Converts weights between a torch.save state dict (.pt/.pth) and safetensors; OUT is written in the format of its extension and must not exist.',
        [],
      ),
    );
    return;
  }
  const positionals = parsed['positionals'] as string[];
  if (positionals.length !== 2) throw new UsageError(`expected two arguments, IN and OUT, got ${positionals.length}`);
  const [input, output] = positionals as [string, string];
  const format = OUTPUT_FORMATS[extname(output).toLowerCase()];
  if (format === undefined) throw new UsageError(`OUT ${output}: expected a name ending in ${Object.keys(OUTPUT_FORMATS).join(', ')}`);
  if (resolve(input) === resolve(output)) throw new UsageError('IN and OUT are the same file');
  if (existsSync(output)) throw new UsageError(`OUT ${output} exists; it is not overwritten (remove it, or choose another name)`);
  const { tensors, notes } = readWeightsFile(input);
  for (const note of notes) process.stderr.write(`note: ${input}: ${note}\n`);
  if (format === 'safetensors') saveSafetensors(output, tensors);
  else saveTorchSave(output, tensors);
  process.stdout.write(`wrote ${Object.keys(tensors).length} tensors to ${output} (${format})\n`);
}
