// torch.save archives (.pt/.pth, the zip format of PyTorch >= 1.6) holding a
// state dict, and the one entry point for weights files of either format.
// Reading: the zip structure (zipArchive.ts) and the pickle (pickle.ts) are
// checked here, then libtorch's own unpickler builds the tensors and
// native/torchscript.cc checks each lies inside its storage record.
// Writing: libtorch's pickle_save, which torch.load reads.
import { native, type Handle } from '../engine/native.js';
import { Tensor } from '../engine/tensor.js';
import { parseSafetensors } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';
import {
  describeValue,
  encodeTensorDict,
  readTorchPickle,
  storageElementBytes,
  viewBytes,
  type PickleValue,
  type PickledTensor,
} from './pickle.js';
import { TorchFileError, describeKind, readFileBytes, readZipArchive, torchFileKind, type ZipRecord } from './zipArchive.js';

/** The entries of a checkpoint that published training scripts wrap their state dict in. */
export const WRAPPER_KEYS = ['state_dict', 'model', 'model_state_dict', 'net', 'params'];
const DATA_PARALLEL_PREFIX = 'module.';

/** Weights read from a file, with what was done to them on the way. */
export interface WeightsFile {
  tensors: Record<string, Tensor>;
  /** What the reader changed, for the user: an unwrapped checkpoint entry, a stripped prefix. */
  notes: string[];
}

type Fail = (what: string) => never;

/**
 * Reads the state dict of a torch.save archive. A dict of tensors is read as it
 * is; a checkpoint dict whose one wrapper entry (WRAPPER_KEYS) is a dict of
 * tensors is unwrapped, with a note. Anything else is refused with TorchFileError.
 */
export function parseTorchSave(bytes: Uint8Array, source = '<bytes>'): WeightsFile {
  const fail: Fail = (what) => {
    throw new TorchFileError(`${source}: ${what}`);
  };
  const kind = torchFileKind(bytes);
  if (kind !== 'torch.save') {
    // readZipArchive says what is wrong with a damaged zip.
    if (kind === 'zip') readZipArchive(bytes, source);
    fail(`expected a torch.save archive, found ${describeKind(kind)}`);
  }
  const archive = readZipArchive(bytes, source);
  const pickleRecord = archive.records.get('data.pkl')!;
  if (pickleRecord.deflated) fail('data.pkl is compressed; torch.save stores it');
  const value = readTorchPickle(bytes.subarray(pickleRecord.start, pickleRecord.start + pickleRecord.size), fail);
  const notes: string[] = [];
  const entries = stateDictOf(value, notes, fail);
  for (const [name, t] of entries) checkStorage(name, t, archive.records, fail);
  let loaded: [string, Handle][];
  try {
    loaded = native.pickleLoad(bytes, encodeTensorDict(entries), 1).entries;
  } catch (err) {
    return fail(`libtorch could not read it: ${(err as Error).message}`);
  }
  const tensors: Record<string, Tensor> = {};
  for (const [name, handle] of loaded) setOwn(tensors, name, new Tensor(handle));
  return { tensors: stripDataParallel(tensors, notes), notes };
}

function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The tensors of a dict of tensors, or of a checkpoint's one wrapper entry that is one. */
function stateDictOf(value: PickleValue, notes: string[], fail: Fail): [string, PickledTensor][] {
  if (value.kind !== 'dict') return fail(`holds ${describeValue(value)}, not a dictionary of tensors (a state dict)`);
  const tensorsOf = (dict: { entries: [PickleValue, PickleValue][] }): [string, PickledTensor][] | undefined =>
    dict.entries.every(([k, v]) => k.kind === 'str' && v.kind === 'tensor')
      ? dict.entries.map(([k, v]) => [(k as { value: string }).value, v as PickledTensor])
      : undefined;
  const direct = tensorsOf(value);
  if (direct !== undefined) return direct;
  const keyOf = (k: PickleValue): string | undefined => (k.kind === 'str' ? k.value : undefined);
  const wrappers = value.entries.filter(([k, v]) => WRAPPER_KEYS.includes(keyOf(k) ?? '') && v.kind === 'dict');
  if (wrappers.length === 1) {
    const [key, inner] = wrappers[0]!;
    const tensors = tensorsOf(inner as { entries: [PickleValue, PickleValue][] });
    if (tensors !== undefined) {
      const others = value.entries.map(([k]) => keyOf(k) ?? describeValue(k)).filter((k) => k !== keyOf(key));
      notes.push(
        `read the state dict from the checkpoint's '${keyOf(key)}' entry${others.length > 0 ? ` (ignored: ${others.map((k) => `'${k}'`).join(', ')})` : ''}`,
      );
      return tensors;
    }
  }
  const [badKey, badValue] = value.entries.find(([k, v]) => k.kind !== 'str' || v.kind !== 'tensor')!;
  const found =
    badKey.kind !== 'str' ? `a key that is ${describeValue(badKey)}` : `entry '${badKey.value}', which is ${describeValue(badValue)}`;
  return fail(
    `is not a dictionary of tensors: it has ${found}; a checkpoint is read when its state dict is one of the entries ${WRAPPER_KEYS.map((k) => `'${k}'`).join(', ')}`,
  );
}

/** The tensor's storage record exists and holds what the storage declares and the view reaches. */
function checkStorage(name: string, t: PickledTensor, records: Map<string, ZipRecord>, fail: Fail): void {
  const record = records.get(`data/${t.key}`) ?? fail(`tensor '${name}': its storage record data/${t.key} is missing`);
  const declared = BigInt(t.numel) * BigInt(storageElementBytes(t));
  if (declared > BigInt(record.size))
    fail(`tensor '${name}': its storage declares ${declared} bytes but record data/${t.key} holds ${record.size}`);
  const reached = viewBytes(t);
  if (reached > declared) fail(`tensor '${name}': its shape and strides reach ${reached} bytes of a ${declared}-byte storage`);
}

/** Strips the 'module.' prefix nn.DataParallel adds, when every key has it. */
export function stripDataParallel(tensors: Record<string, Tensor>, notes: string[]): Record<string, Tensor> {
  const keys = Object.keys(tensors);
  if (keys.length === 0 || !keys.every((k) => k.startsWith(DATA_PARALLEL_PREFIX))) return tensors;
  const out: Record<string, Tensor> = {};
  for (const key of keys) {
    setOwn(out, key.slice(DATA_PARALLEL_PREFIX.length), tensors[key]!);
  }
  notes.push(`stripped the '${DATA_PARALLEL_PREFIX}' prefix (nn.DataParallel) from ${keys.length} keys`);
  return out;
}

/** The bytes of a torch.save archive of the record (torch.load reads it as a dict of tensors). */
export function serializeTorchSave(record: Record<string, Tensor>): Uint8Array {
  const names = Object.keys(record);
  return new Uint8Array(
    native.pickleSave(
      names,
      names.map((n) => record[n]!.handle),
    ),
  );
}

/** Writes a record of tensors as a torch.save archive, atomically. */
export function saveTorchSave(path: string, record: Record<string, Tensor>): void {
  writeFileAtomic(path, serializeTorchSave(record));
}

/**
 * Reads weights from a safetensors file or a torch.save archive, told apart
 * by content. A TorchScript archive, or anything else, is refused naming what it is.
 */
export function readWeightsFile(path: string): WeightsFile {
  const bytes = readFileBytes(path);
  const kind = torchFileKind(bytes);
  if (kind === 'torch.save') return parseTorchSave(bytes, path);
  if (kind === 'torchscript') {
    throw new TorchFileError(
      `${path}: expected weights (safetensors or a torch.save state dict), found ${describeKind(kind)}; load it as a model (--torchscript)`,
    );
  }
  // readZipArchive says what is wrong with a damaged zip.
  if (kind === 'zip') readZipArchive(bytes, path);
  if (kind !== 'other')
    throw new TorchFileError(`${path}: expected weights (safetensors or a torch.save state dict), found ${describeKind(kind)}`);
  const notes: string[] = [];
  return { tensors: stripDataParallel(parseSafetensors(bytes, path).tensors, notes), notes };
}

/** The tensors of a weights file (see readWeightsFile); `onNote` hears what was changed. */
export function loadWeights(path: string, onNote?: (note: string) => void): Record<string, Tensor> {
  const { tensors, notes } = readWeightsFile(path);
  for (const note of notes) onNote?.(`${path}: ${note}`);
  return tensors;
}
