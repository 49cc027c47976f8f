// Starts N worker processes on localhost as torchrun would (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT on a free port) and collects what each printed.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../src/index.js';
import { freePort } from '../../src/cli/launch.js';

export interface WorkerResult {
  rank: number;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout parsed as JSON, or null. */
  report: Record<string, unknown> | null;
}

/**
 * Runs `node script ...args` as ranks 0..n-1 of one group and waits for all
 * of them; a worker still running after `killAfterMs` is killed (so a hang
 * fails the test instead of stalling it).
 */
export async function runWorkers(
  script: string,
  args: string[],
  n: number,
  opts: { killAfterMs: number; env?: Record<string, string> },
): Promise<WorkerResult[]> {
  const port = await freePort();
  return Promise.all(
    Array.from({ length: n }, (_, rank) => {
      const child = spawn(process.execPath, [script, ...args], {
        env: {
          ...process.env,
          ...opts.env,
          RANK: String(rank),
          LOCAL_RANK: String(rank),
          WORLD_SIZE: String(n),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
      return new Promise<WorkerResult>((resolveResult) => {
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          const last = stdout.trim().split('\n').pop() ?? '';
          let report: Record<string, unknown> | null = null;
          try {
            report = JSON.parse(last) as Record<string, unknown>;
          } catch {
            report = null;
          }
          resolveResult({ rank, code, signal, stdout, stderr, report });
        });
      });
    }),
  );
}

/** What worker.ts's training scenarios read: initial weights, per rank per step a batch, SGD's settings. */
export interface TrainInputs {
  weights: Record<string, Tensor> | Map<string, Tensor>;
  shards: { x: Tensor; y: Tensor }[][];
  lr: number;
  momentum: number;
}

/** Writes `inputs` as JSON into `dir` for the workers; returns the file. */
export function writeTrainInputs(dir: string, inputs: TrainInputs): string {
  const file = join(dir, 'inputs.json');
  const plain = (t: Tensor) => ({ shape: t.shape, data: t.toNumbers() });
  const weights = inputs.weights instanceof Map ? [...inputs.weights] : Object.entries(inputs.weights);
  writeFileSync(
    file,
    JSON.stringify({
      ...inputs,
      weights: Object.fromEntries(weights.map(([k, t]) => [k, plain(t)])),
      shards: inputs.shards.map((s) => s.map((b) => ({ x: plain(b.x), y: plain(b.y) }))),
    }),
  );
  return file;
}
