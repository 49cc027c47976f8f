// Loads the Node-API addon; a failed load says what was tried and what to do.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './ops.generated.js';

export type { NativeBinding };

/** Opaque handle to one native tensor reference. */
export type Handle = { readonly __handle: unique symbol };
/** Opaque handle to one native torch::jit::Module (native/torchscript.cc). */
export type ScriptHandle = { readonly __script: unique symbol };

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('d2r: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const root = packageRoot();
  const candidates = [
    process.env.D2R_NATIVE ? resolve(process.env.D2R_NATIVE) : undefined,
    join(root, 'build', 'Release', 'd2r_native.node'),
    join(root, 'build', 'Debug', 'd2r_native.node'),
  ].filter((p): p is string => p !== undefined);
  const failures: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    try {
      return require(path) as NativeBinding;
    } catch (err) {
      const message = (err as Error).message;
      // The addon loaded and refused one of its D2R_ settings: a setting to fix, not a build.
      if (/^D2R_[A-Z_]+: /.test(message)) throw new Error(`d2r: ${message}`);
      failures.push(`${path}: ${message}`);
    }
  }
  throw new Error(
    'd2r: the native engine could not be loaded. Tried:\n  ' +
      failures.join('\n  ') +
      '\nBuild it with `npm install` (it compiles against libtorch; install libtorch first with ' +
      '`bash scripts/setup-system.sh`, or set D2R_LIBTORCH to a libtorch directory and run `npm rebuild d2r`).',
  );
}

export const native: NativeBinding = load();
