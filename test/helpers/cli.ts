// Runs the built `d2r` command line in a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs `d2r args` to completion; `env` adds to the environment. */
export function d2r(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function d2rAsync(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
}

type FlagValue = string | number | boolean | null;

/**
 * `d2r train` arguments for a tiny run into `out`: standard training of smallcnn on
 * the first 128 Fashion-MNIST images, one epoch at batch 64, 16 clean evaluation
 * points, one thread, seed 0. `settings` (camelCase flag names) add or replace
 * flags; true is a bare flag, null leaves the flag out.
 */
export function trainArgs(out: string, settings: Record<string, FlagValue> = {}): string[] {
  const all: Record<string, FlagValue> = {
    method: 'standard',
    model: 'smallcnn',
    dataset: 'fashion-mnist',
    limit: 128,
    batchSize: 64,
    epochs: 1,
    evalN: 16,
    evalSteps: 0,
    threads: 1,
    seed: 0,
    ...settings,
    out,
  };
  const flag = (name: string): string => '--' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  return [
    'train',
    ...Object.entries(all).flatMap(([k, v]) => (v === null || v === false ? [] : v === true ? [flag(k)] : [flag(k), String(v)])),
  ];
}

/** Kills the child with SIGKILL once `condition` holds (checked every 20 ms); resolves when it has exited. */
export function killWhen(child: ChildProcess, condition: () => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      resolve();
    });
  });
}
