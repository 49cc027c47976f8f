// What every run records next to its numbers: the full configuration, the seed,
// the exact command and the versions of everything that shaped the result.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as torch from '../engine/torch.js';

export function packageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

export function runFacts<C extends { seed: number }>(config: C): Record<string, unknown> {
  return {
    config,
    seed: config.seed,
    command: ['d2r', ...process.argv.slice(2)].join(' '),
    versions: { d2r: packageVersion(), node: process.version, libtorch: torch.libtorchVersion() },
    threads: torch.getNumThreads(),
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
}
