// Any PyTorch model, as TorchScript: the file is read and checked here (its
// zip structure, before libtorch sees it) and loaded by libtorch's
// torch::jit::load. It lives in models, not io, because it builds a Module (nn),
// which io may not import.
import type * as torch from '../engine/torch.js';
import { ScriptModule } from '../nn/scriptModule.js';
import { TorchFileError, describeKind, readFileBytes, readZipArchive, torchFileKind } from '../io/zipArchive.js';

export interface LoadTorchScriptOptions {
  /** Where the module's tensors go (default: where they were saved). */
  device?: torch.Device;
}

/**
 * Loads a TorchScript archive (torch.jit.save / torch.jit.script(...).save) as a
 * Module. A torch.save state dict, or any other file, is refused naming what it is.
 */
export function loadTorchScript(path: string, { device }: LoadTorchScriptOptions = {}): ScriptModule {
  const bytes = readFileBytes(path);
  const kind = torchFileKind(bytes);
  if (kind !== 'torchscript') {
    if (kind === 'zip') readZipArchive(bytes, path);
    const hint = kind === 'torch.save' ? '; a state dict loads into a zoo model (--model with --weights)' : '';
    throw new TorchFileError(`${path}: expected a TorchScript archive (torch.jit.save), found ${describeKind(kind)}${hint}`);
  }
  try {
    return ScriptModule.fromBytes(bytes, device);
  } catch (err) {
    throw new TorchFileError(`${path}: libtorch could not load the TorchScript module: ${(err as Error).message}`);
  }
}
