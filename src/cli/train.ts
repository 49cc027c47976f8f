// `d2r train`
import { helpText, parseFlags } from './flags.js';
import { TRAIN_FLAGS, resolveTrainConfig } from '../train/config.js';
import { train } from '../train/trainer.js';

export function trainCommand(argv: string[]): void {
  const flags = parseFlags(argv, TRAIN_FLAGS);
  if (flags === null) {
    process.stdout.write(helpText('train', 'Trains a target model (and a guidance model for d2r/lbgat); writes config.json, metrics.jsonl and checkpoints to --out.', TRAIN_FLAGS));
    return;
  }
  const config = resolveTrainConfig(flags);
  const result = train(config);
  const last = result.epochs[result.epochs.length - 1];
  process.stdout.write(
    `${config.out}: ${result.epochs.length} epochs, ${result.seconds.toFixed(1)} s` +
      (last ? `, test clean accuracy ${(100 * last.testCleanAccuracy).toFixed(2)}%` : '') +
      (last?.testRobustAccuracy != null ? `, PGD-${config.evalSteps} ${(100 * last.testRobustAccuracy).toFixed(2)}%` : '') +
      '\n',
  );
}
