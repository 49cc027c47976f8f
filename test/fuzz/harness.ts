// Drives fuzz workers (worker.ts) in child processes: a crash ends only the
// child, an input that does not finish within the time bound is a hang; either
// way the child is restarted after the offending input. Every input is
// identified by (target, seed, index) and can be rerun alone (see run.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FuzzTarget } from './targets.js';
import { tempDir } from '../helpers/tempDir.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface FuzzOptions {
  seed: number;
  iterations: number;
  /** The longest one input may take (the bound for "no hang"). */
  inputTimeoutMs: number;
  /** The longest a worker may take to load its modules and build the valid files. */
  startTimeoutMs: number;
}

export interface FuzzFinding {
  target: string;
  seed: number;
  input: number;
  problem: string;
}

export interface FuzzReport {
  target: string;
  inputs: number;
  findings: FuzzFinding[];
  /** How often each kind of error was thrown (refusals are the expected outcome of most inputs). */
  errors: Record<string, number>;
}

interface WorkerResult {
  /** The input after the last one that ran to completion. */
  next: number;
  findings: FuzzFinding[];
  errors: Record<string, number>;
}

function runWorker(target: FuzzTarget, options: FuzzOptions, from: number, to: number): Promise<WorkerResult> {
  return new Promise((resolve) => {
    // The worker removes each input's files; a killed one leaves them in dir, which goes when this process exits.
    const dir = tempDir(`d2r-fuzz-${target.name}-`);
    const child = spawn(process.execPath, [WORKER, target.name, String(options.seed), String(from), String(to), dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const findings: FuzzFinding[] = [];
    let errors: Record<string, number> = {};
    let current = -1;
    let finished = false;
    let pending = '';
    let stderr = '';
    const found = (input: number, problem: string): void => {
      findings.push({ target: target.name, seed: options.seed, input, problem });
    };
    let timer = setTimeout(() => stop('the worker did not start'), options.startTimeoutMs);
    let stopReason: string | null = null;
    function stop(reason: string): void {
      stopReason = reason;
      child.kill('SIGKILL');
    }
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [word, ...rest] = line.split(' ');
        const payload = rest.join(' ');
        if (word === 'start') {
          current = Number(payload);
          clearTimeout(timer);
          timer = setTimeout(() => stop(`hang: input ${current} ran longer than ${options.inputTimeoutMs} ms`), options.inputTimeoutMs);
        } else if (word === 'violation') {
          const v = JSON.parse(payload) as { i: number; problem: string };
          found(v.i, v.problem);
        } else if (word === 'errors') {
          errors = JSON.parse(payload) as Record<string, number>;
          finished = true;
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (finished && code === 0) return resolve({ next: to, findings, errors });
      const problem = stopReason ?? `crash: the worker exited with ${signal ?? `code ${code}`}\n${stderr}`;
      if (current < 0) {
        // Nothing ran: the worker itself is broken, which no restart fixes.
        found(from, `${problem}\n${stderr}`);
        return resolve({ next: to, findings, errors });
      }
      found(current, problem);
      resolve({ next: current + 1, findings, errors });
    });
  });
}

/** Fuzzes one target with `options.iterations` inputs, restarting the worker after each crash or hang. */
export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const findings: FuzzFinding[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  while (next < options.iterations) {
    const result = await runWorker(target, options, next, options.iterations);
    findings.push(...result.findings);
    for (const [kind, n] of Object.entries(result.errors)) errors[kind] = (errors[kind] ?? 0) + n;
    next = result.next;
  }
  return { target: target.name, inputs: options.iterations, findings, errors };
}
