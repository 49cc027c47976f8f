// The pickle inside a torch.save archive (data.pkl). A pickle is a program:
// GLOBAL names any Python callable and REDUCE calls it. Nothing here calls
// anything: the program is read as data, accepting only what torch.save writes
// for dicts of tensors —
//   - the opcodes of protocol 2 for dicts, lists, tuples, strings, numbers, and
//     tensors (a persistent storage id and a _rebuild_tensor_v2 call);
//   - GLOBAL only of collections.OrderedDict, torch._utils._rebuild_tensor_v2,
//     torch.*Storage and torch.jit._pickle.restore_type_tag (libtorch's own
//     writer's); any other name (os.system, ...) is refused by name;
//   - every pop checked against the stack and mark stack; memo indices dense.
// libtorch 1.13's unpickler cannot read a state dict as torch.save writes it
// (it turns every OrderedDict into None), so the tensors found are handed to
// it as a canonical pickle of a plain dict (encodeTensorDict), from which it
// builds the tensors out of the archive's storage records.

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  // libtorch's own writer (pickle_save) tags a typed dict with its type: restore_type_tag(value, 'Dict[str, Tensor]').
  'torch.jit._pickle.restore_type_tag',
  'torch._utils._rebuild_tensor_v2',
  ...['Float', 'Double', 'Half', 'BFloat16', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool'].map((type) => `torch.${type}Storage`),
]);
const STORAGE_BYTES: Record<string, number> = {
  FloatStorage: 4,
  DoubleStorage: 8,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  BoolStorage: 1,
};
/** libtorch kernels index at most 25 dimensions; a longer shape is hostile. */
const MAX_RANK = 64;

/** A tensor as data.pkl declares it: its storage record and its view of it. */
export interface PickledTensor {
  kind: 'tensor';
  storageType: string;
  /** The storage record's name under data/. */
  key: string;
  location: string;
  /** Elements the storage declares. */
  numel: number;
  offset: number;
  size: number[];
  stride: number[];
  requiresGrad: boolean;
}

export type PickleValue =
  | PickledTensor
  | { kind: 'dict'; entries: [PickleValue, PickleValue][] }
  | { kind: 'tuple' | 'list'; items: PickleValue[] }
  | { kind: 'str'; value: string }
  | { kind: 'int'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'float' | 'none' }
  | { kind: 'global'; name: string }
  | { kind: 'storage'; items: PickleValue[] };

/** What a value is, for messages. */
export const describeValue = (v: PickleValue): string =>
  v.kind === 'global' ? `the global ${v.name}` : v.kind === 'str' ? 'a string' : `a ${v.kind}`;

const OP = {
  PROTO: 0x80,
  GLOBAL: 0x63,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  MARK: 0x28,
  EMPTY_TUPLE: 0x29,
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  REDUCE: 0x52,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  APPEND: 0x61,
  APPENDS: 0x65,
  BINPERSID: 0x51,
  BUILD: 0x62,
  STOP: 0x2e,
} as const;
const NAMES = new Map(Object.entries(OP).map(([name, code]) => [code as number, name]));

/** Reads data.pkl as data (see above); `fail` throws the caller's error. */
export function readTorchPickle(pickle: Uint8Array, fail: (what: string) => never): PickleValue {
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo: PickleValue[] = [];
  const view = new DataView(pickle.buffer, pickle.byteOffset, pickle.byteLength);
  let at = 0;
  let opAt = 0;
  const bad: (what: string) => never = (what) => fail(`data.pkl: ${what} (byte ${opAt})`);
  const need = (count: number): number => {
    if (at + count > pickle.length) bad('the pickle ends inside an opcode');
    const start = at;
    at += count;
    return start;
  };
  const pop = (): PickleValue => stack.pop() ?? bad('an opcode pops an empty stack');
  const top = (): PickleValue => stack[stack.length - 1] ?? bad('an opcode needs a value on the stack');
  const popToMark = (): PickleValue[] => {
    const mark = marks.pop() ?? bad('an opcode needs a MARK');
    if (mark > stack.length) bad('a MARK lies above the stack');
    return stack.splice(mark);
  };
  const line = (): string => {
    const end = pickle.indexOf(0x0a, at);
    if (end < 0 || end - at > 256) bad('GLOBAL is not followed by short text lines');
    const text = Buffer.from(pickle.subarray(at, end)).toString('latin1');
    at = end + 1;
    return text;
  };
  const put = (index: number): void => {
    if (index > memo.length) bad(`memo entry ${index} is stored before entry ${memo.length}`);
    memo[index] = top();
  };
  const get = (index: number): void => {
    stack.push(memo[index] ?? bad(`memo entry ${index} is read but was never stored`));
  };
  const int = (value: number | bigint): PickleValue => {
    if (typeof value === 'bigint' && (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)))
      bad('an integer is too large');
    return { kind: 'int', value: Number(value) };
  };
  const dictBelow = (): { kind: 'dict'; entries: [PickleValue, PickleValue][] } => {
    const target = top();
    return target.kind === 'dict' ? target : bad(`an opcode sets items of ${describeValue(target)}, not a dict`);
  };
  for (;;) {
    opAt = need(1);
    const code = pickle[opAt]!;
    const name =
      NAMES.get(code) ?? bad(`opcode 0x${code.toString(16).padStart(2, '0')} is not one torch.save writes for a dictionary of tensors`);
    switch (code) {
      case OP.PROTO:
        need(1);
        break;
      case OP.GLOBAL: {
        const global = `${line()}.${line()}`;
        if (!ALLOWED_GLOBALS.has(global))
          bad(
            `names the Python global '${global}'; only dicts of tensors are read, so only the globals torch.save writes for them are allowed`,
          );
        stack.push({ kind: 'global', name: global });
        break;
      }
      case OP.BINPUT:
        put(pickle[need(1)]!);
        break;
      case OP.LONG_BINPUT:
        put(view.getUint32(need(4), true));
        break;
      case OP.BINGET:
        get(pickle[need(1)]!);
        break;
      case OP.LONG_BINGET:
        get(view.getUint32(need(4), true));
        break;
      case OP.MARK:
        marks.push(stack.length);
        break;
      case OP.EMPTY_TUPLE:
        stack.push({ kind: 'tuple', items: [] });
        break;
      case OP.EMPTY_DICT:
        stack.push({ kind: 'dict', entries: [] });
        break;
      case OP.EMPTY_LIST:
        stack.push({ kind: 'list', items: [] });
        break;
      case OP.NONE:
        stack.push({ kind: 'none' });
        break;
      case OP.NEWTRUE:
      case OP.NEWFALSE:
        stack.push({ kind: 'bool', value: code === OP.NEWTRUE });
        break;
      case OP.BININT:
        stack.push(int(view.getInt32(need(4), true)));
        break;
      case OP.BININT1:
        stack.push(int(pickle[need(1)]!));
        break;
      case OP.BININT2:
        stack.push(int(view.getUint16(need(2), true)));
        break;
      case OP.LONG1: {
        const length = pickle[need(1)]!;
        if (length > 8) bad(`a ${length}-byte integer is too large`);
        const start = need(length);
        let value = 0n;
        for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(pickle[start + i]!);
        if (length > 0 && pickle[start + length - 1]! >= 0x80) value -= 1n << BigInt(8 * length);
        stack.push(int(value));
        break;
      }
      case OP.BINFLOAT:
        need(8);
        stack.push({ kind: 'float' });
        break;
      case OP.BINUNICODE: {
        const length = view.getUint32(need(4), true);
        const start = need(length);
        stack.push({ kind: 'str', value: Buffer.from(pickle.subarray(start, start + length)).toString('utf8') });
        break;
      }
      case OP.TUPLE:
        stack.push({ kind: 'tuple', items: popToMark() });
        break;
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const items = Array.from({ length: code - OP.TUPLE1 + 1 }, pop).reverse();
        stack.push({ kind: 'tuple', items });
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const callable = pop();
        if (callable.kind !== 'global' || args.kind !== 'tuple') bad(`REDUCE calls ${describeValue(callable)}`);
        if (callable.name === 'collections.OrderedDict') {
          if (args.items.length !== 0) bad('an OrderedDict is built with arguments');
          stack.push({ kind: 'dict', entries: [] });
        } else if (callable.name === 'torch.jit._pickle.restore_type_tag') {
          if (args.items.length !== 2) bad(`restore_type_tag takes 2 arguments, got ${args.items.length}`);
          stack.push(args.items[0]!);
        } else if (callable.name === 'torch._utils._rebuild_tensor_v2') {
          stack.push(rebuiltTensor(args.items, bad));
        } else bad(`REDUCE calls ${callable.name}`);
        break;
      }
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        dictBelow().entries.push([key, value]);
        break;
      }
      case OP.SETITEMS: {
        const items = popToMark();
        if (items.length % 2 !== 0) bad('SETITEMS has an odd number of keys and values');
        const dict = dictBelow();
        for (let i = 0; i < items.length; i += 2) dict.entries.push([items[i]!, items[i + 1]!]);
        break;
      }
      case OP.APPEND: {
        const value = pop();
        const list = top();
        if (list.kind !== 'list') bad(`APPEND appends to ${describeValue(list)}`);
        (list as { items: PickleValue[] }).items.push(value);
        break;
      }
      case OP.APPENDS: {
        const values = popToMark();
        const list = top();
        if (list.kind !== 'list') bad(`APPENDS appends to ${describeValue(list)}`);
        (list as { items: PickleValue[] }).items.push(...values);
        break;
      }
      case OP.BINPERSID: {
        const id = pop();
        if (id.kind !== 'tuple') bad('a storage reference is not a tuple');
        stack.push({ kind: 'storage', items: (id as { items: PickleValue[] }).items });
        break;
      }
      case OP.BUILD:
        // Sets the attributes of an OrderedDict: a state dict's `_metadata` (per-module versions), unused here.
        pop();
        dictBelow();
        break;
      case OP.STOP:
        if (stack.length !== 1 || marks.length !== 0)
          bad(`STOP leaves ${stack.length} values and ${marks.length} marks (expected one value)`);
        return stack[0]!;
      default:
        bad(`opcode ${name} is not handled`);
    }
  }
}

/** _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks), its storage ('storage', type, key, location, numel). */
function rebuiltTensor(args: PickleValue[], bad: (what: string) => never): PickledTensor {
  if (args.length !== 6) bad(`a tensor is rebuilt from ${args.length} arguments, not 6`);
  const [storage, offset, size, stride, requiresGrad] = args;
  const ints = (v: PickleValue | undefined, what: string): number[] => {
    if (v?.kind !== 'tuple' || !v.items.every((i) => i.kind === 'int')) return bad(`a tensor's ${what} is not a tuple of integers`);
    if (v.items.length > MAX_RANK) bad(`a tensor has ${v.items.length} dimensions; at most ${MAX_RANK} are read`);
    return v.items.map((i) => (i as { value: number }).value);
  };
  if (storage?.kind !== 'storage' || storage.items.length !== 5) return bad('a tensor is not rebuilt from a storage reference of 5 fields');
  const [tag, type, key, location, numel] = storage.items;
  const storageType = type?.kind === 'global' && type.name.startsWith('torch.') ? type.name.slice('torch.'.length) : undefined;
  if (tag?.kind !== 'str' || tag.value !== 'storage' || storageType === undefined || !(storageType in STORAGE_BYTES))
    bad('a storage reference is not a torch storage');
  if (key?.kind !== 'str' || !/^[0-9A-Za-z_]{1,64}$/.test(key.value)) bad('a storage key is not a short plain name');
  if (location?.kind !== 'str') bad('a storage location is not a string');
  if (numel?.kind !== 'int' || numel.value < 0) bad('a storage size is not a non-negative integer');
  if (offset?.kind !== 'int' || offset.value < 0) bad("a tensor's offset is not a non-negative integer");
  const shape = ints(size, 'size');
  const strides = ints(stride, 'stride');
  if (shape.length !== strides.length) bad(`a tensor has ${shape.length} sizes but ${strides.length} strides`);
  if (shape.some((s) => s < 0) || strides.some((s) => s < 0)) bad('a tensor has a negative size or stride');
  return {
    kind: 'tensor',
    storageType: storageType!,
    key: (key as { value: string }).value,
    location: (location as { value: string }).value,
    numel: (numel as { value: number }).value,
    offset: (offset as { value: number }).value,
    size: shape,
    stride: strides,
    requiresGrad: requiresGrad?.kind === 'bool' && requiresGrad.value,
  };
}

/** Bytes of one element of the tensor's storage type. */
export const storageElementBytes = (t: PickledTensor): number => STORAGE_BYTES[t.storageType]!;

/** The bytes of its storage record the tensor's view reaches (0 for an empty tensor). */
export function viewBytes(t: PickledTensor): bigint {
  if (t.size.some((s) => s === 0)) return 0n;
  const last = t.size.reduce((end, s, d) => end + BigInt(s - 1) * BigInt(t.stride[d]!), BigInt(t.offset));
  return (last + 1n) * BigInt(storageElementBytes(t));
}

/**
 * A canonical pickle (protocol 2) of a plain dict name -> tensor, which
 * libtorch's unpickler reads: each tensor a _rebuild_tensor_v2 call on its
 * storage record, with no backward hooks.
 */
export function encodeTensorDict(tensors: [string, PickledTensor][]): Uint8Array {
  const parts: number[] = [OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK];
  const bytes = (b: Uint8Array | number[]): void => {
    for (const x of b) parts.push(x);
  };
  const str = (s: string): void => {
    const encoded = Buffer.from(s, 'utf8');
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, encoded.length, true);
    bytes([OP.BINUNICODE, ...length]);
    bytes(encoded);
  };
  const global = (name: string): void => {
    const dot = name.lastIndexOf('.');
    bytes([OP.GLOBAL]);
    bytes(Buffer.from(`${name.slice(0, dot)}\n${name.slice(dot + 1)}\n`, 'latin1'));
  };
  const int = (n: number): void => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
    bytes([OP.LONG1, 8, ...b]);
  };
  const tuple = (values: number[]): void => {
    parts.push(OP.MARK);
    values.forEach(int);
    parts.push(OP.TUPLE);
  };
  for (const [name, t] of tensors) {
    str(name);
    global('torch._utils._rebuild_tensor_v2');
    parts.push(OP.MARK, OP.MARK);
    str('storage');
    global(`torch.${t.storageType}`);
    str(t.key);
    str(t.location);
    int(t.numel);
    parts.push(OP.TUPLE, OP.BINPERSID);
    int(t.offset);
    tuple(t.size);
    tuple(t.stride);
    parts.push(t.requiresGrad ? OP.NEWTRUE : OP.NEWFALSE, OP.NONE, OP.TUPLE, OP.REDUCE);
  }
  parts.push(OP.SETITEMS, OP.STOP);
  return Uint8Array.from(parts);
}
