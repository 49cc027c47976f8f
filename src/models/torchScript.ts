// Any PyTorch model, as TorchScript: the file is read and checked here (its
// zip structure, before libtorch sees it) and loaded by libtorch's
// torch::jit::load. It lives in models, not io, because it builds a Module (nn),
// which io may not import.
import type * as torch from '../engine/torch.js';
import { ScriptModule } from '../nn/scriptModule.js';
import { TorchFileError, describeKind, readFileBytes, readZipArchive, torchFileKind } from '../io/zipArchive.js';
import { writeFileAtomic } from '../io/atomic.js';

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
    const weights = kind === 'torch.save' || (kind === 'other' && looksLikeSafetensors(bytes));
    const found = kind === 'other' && weights ? 'safetensors weights' : describeKind(kind);
    const hint = weights ? '; weights load into a zoo model (--model with --weights)' : '';
    throw new TorchFileError(`${path}: expected a TorchScript archive (torch.jit.save), found ${found}${hint}`);
  }
  try {
    return ScriptModule.fromBytes(bytes, device);
  } catch (err) {
    throw new TorchFileError(`${path}: libtorch could not load the TorchScript module: ${(err as Error).message}`);
  }
}

/** A safetensors file starts with its JSON header's length (8 bytes, little-endian) and then the header's '{'. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b) return false;
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return headerLength <= BigInt(bytes.length - 8);
}

/**
 * Writes a loaded (and perhaps trained) TorchScript module to `path`, atomically,
 * as torch.jit.save would: its own architecture with its current weights.
 */
export function saveTorchScript(path: string, module: ScriptModule): void {
  writeFileAtomic(path, module.toBytes());
}
