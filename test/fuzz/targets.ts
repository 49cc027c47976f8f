// What the fuzzer feeds: for each parser, a set of valid files and how to run
// the parser on them. One file of the set is replaced by a mutation per input.
// Every target runs in a child process (harness.ts), so even a crash in libtorch
// ends only that child; `native` ones load the engine and start slower.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findDuplicateJsonKey, scanJsonKeys } from '../../src/io/duplicateJsonKey.js';
import { readIdxPair, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from '../../src/data/idx.js';
import { readCifarFile } from '../../src/data/cifar.js';
import { decodeJpegInto } from '../../src/data/jpeg.js';
import { cifarBytes, idxBytes, patternBytes, rgbJpeg, smoothImage } from '../data/fixtures.js';
import { encodeGrayJpeg } from '../data/grayJpeg.js';

export interface FuzzTarget {
  name: string;
  /** Loads libtorch, so its worker starts slower (default false). */
  native?: boolean;
  /** False for parsers of in-memory text, whose errors have no file to name (default true). */
  namesFile?: boolean;
  /** False where the contract is to never throw at all (default true). */
  mayThrow?: boolean;
  /** The valid files, by path relative to the input folder; built once per worker. One is mutated per input. */
  files(): Promise<Record<string, Uint8Array>>;
  /** Runs the parser on the files in `dir`. */
  run(dir: string): Promise<void> | void;
}

const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf8'));
const digitLabels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7) % 10);

const idx: FuzzTarget = {
  name: 'idx',
  files: async () => ({
    'images.gz': idxBytes(IDX_IMAGES_MAGIC, [3, 28, 28], patternBytes(3 * 784, 3), true),
    'labels.gz': idxBytes(IDX_LABELS_MAGIC, [3], digitLabels(3), true),
    images: idxBytes(IDX_IMAGES_MAGIC, [3, 28, 28], patternBytes(3 * 784, 4)),
    labels: idxBytes(IDX_LABELS_MAGIC, [3], digitLabels(3)),
  }),
  run(dir) {
    readIdxPair(join(dir, 'images.gz'), join(dir, 'labels.gz'), 10, [28, 28]);
    readIdxPair(join(dir, 'images'), join(dir, 'labels'), 10);
  },
};

const cifar: FuzzTarget = {
  name: 'cifar',
  files: async () => ({
    'cifar10.bin': cifarBytes([[3], [9], [0]], patternBytes(3 * 3072, 5)),
    'cifar100.bin': cifarBytes(
      [
        [19, 99],
        [0, 5],
      ],
      patternBytes(2 * 3072, 6),
    ),
  }),
  run(dir) {
    readCifarFile(join(dir, 'cifar10.bin'), 1, 0, 10);
    readCifarFile(join(dir, 'cifar100.bin'), 2, 1, 100);
  },
};

const jpeg: FuzzTarget = {
  name: 'jpeg',
  files: async () => ({
    'rgb.jpeg': rgbJpeg(smoothImage(1)),
    'gray.jpeg': encodeGrayJpeg(
      64,
      64,
      Array.from({ length: 64 }, (_, b) => (b * 29) % 256),
    ),
  }),
  run(dir) {
    const out = new Uint8Array(2 * 3 * 64 * 64);
    ['rgb.jpeg', 'gray.jpeg'].forEach((name, slot) =>
      decodeJpegInto(join(dir, name), readFileSync(join(dir, name)), [3, 64, 64], out, slot),
    );
  },
};

const SAFETENSORS_FILES = ['mixed.safetensors', 'metadata.safetensors', 'framed.safetensors'];

/** A safetensors file from its parts, the header length always right, so mutations of the header text reach its checks. */
function frameSafetensors(header: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

const safetensors: FuzzTarget = {
  name: 'safetensors',
  native: true,
  async files() {
    const { torch, io } = await import('../../src/index.js');
    const mixed = io.serializeSafetensors({
      weight: torch.tensor([1, 2, 3, 4, 5, 6], [2, 3]),
      steps: torch.tensor(BigInt64Array.of(1n, 2n)),
      mask: torch.tensor([1, 0, 1]).gt(0),
      empty: torch.zeros([0, 4]),
      scalar: torch.tensor(3.5).to('float64'),
    });
    const headerEnd = 8 + Number(new DataView(mixed.buffer, mixed.byteOffset).getBigUint64(0, true));
    return {
      'mixed.safetensors': mixed,
      'header.json': mixed.slice(8, headerEnd),
      'data.bin': mixed.slice(headerEnd),
      'metadata.safetensors': io.serializeSafetensors(
        { 'a.b': torch.ones([2, 2]).to('float16'), c: torch.zeros([3]).to('uint8') },
        { format: 'pt', epoch: '3' },
      ),
    };
  },
  async run(dir) {
    const { io, torch } = await import('../../src/index.js');
    writeFileSync(
      join(dir, 'framed.safetensors'),
      frameSafetensors(readFileSync(join(dir, 'header.json')), readFileSync(join(dir, 'data.bin'))),
    );
    for (const name of SAFETENSORS_FILES) {
      const { tensors } = io.readSafetensors(join(dir, name));
      // Use what was loaded, as a checkpoint load would.
      torch.tidy(() => Object.values(tensors).forEach((t) => t.to('float64').sum().item()));
      Object.values(tensors).forEach((t) => t.dispose());
    }
  },
};

const torchSave: FuzzTarget = {
  name: 'torch-save',
  native: true,
  async files() {
    const { torch, io } = await import('../../src/index.js');
    return {
      'weights.pt': io.serializeTorchSave({
        weight: torch.tensor([1, 2, 3, 4, 5, 6], [2, 3]).transpose(0, 1),
        steps: torch.tensor(BigInt64Array.of(1n, 2n)),
        mask: torch.tensor([1, 0, 1]).gt(0),
        empty: torch.zeros([0, 4]),
        half: torch.ones([2]).to('float16'),
      }),
    };
  },
  async run(dir) {
    const { io, torch } = await import('../../src/index.js');
    const { tensors } = io.readWeightsFile(join(dir, 'weights.pt'));
    // Use what was loaded, as a checkpoint load would.
    torch.tidy(() => Object.values(tensors).forEach((t) => t.to('float64').sum().item()));
    Object.values(tensors).forEach((t) => t.dispose());
  },
};

const WNIDS = ['n01', 'n02'];

const tinyImageNet: FuzzTarget = {
  name: 'tiny-imagenet',
  native: true,
  files: async () => ({
    'wnids.txt': text(WNIDS.join('\n') + '\n'),
    'words.txt': text('n01\tgoldfish\nn02\ttabby cat\n'),
    'train/n01/images/n01_0.JPEG': rgbJpeg(smoothImage(2)),
    'train/n02/images/n02_0.JPEG': encodeGrayJpeg(
      64,
      64,
      Array.from({ length: 64 }, (_, b) => (b * 13) % 256),
    ),
    'val/val_annotations.txt': text('val_0.JPEG\tn02\t0\t0\t10\t10\nval_1.JPEG\tn01\t1\t2\t30\t40\n'),
    'val/images/val_0.JPEG': rgbJpeg(smoothImage(3)),
    'val/images/val_1.JPEG': rgbJpeg(smoothImage(4)),
  }),
  async run(dir) {
    const { data } = await import('../../src/index.js');
    for (const split of ['train', 'test'] as const) {
      const set = data.loadDataset('tiny-imagenet', { split, dataDir: dir });
      set.images.dispose();
      set.labels.dispose();
    }
  },
};

/** Valid headers the key scanner must get through whatever is done to them. */
const jsonKeys: FuzzTarget = {
  name: 'json-keys',
  namesFile: false,
  mayThrow: false,
  files: async () => ({
    'header.json': text(
      '{"__metadata__":{"format":"pt"},"a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b\\"\\u00e9":{"dtype":"I64","shape":[],"data_offsets":[24,32]}}',
    ),
    'nested.json': text('{"a":[1,{"b":{"c":[[],{}]}},"x\\\\"],"d":{"e":null,"f":true,"g":-1.5e3}}'),
  }),
  run(dir) {
    for (const name of ['header.json', 'nested.json']) {
      const json = readFileSync(join(dir, name), 'utf8');
      scanJsonKeys(json, 3);
      let valid = true;
      try {
        JSON.parse(json);
      } catch {
        valid = false;
      }
      if (valid) findDuplicateJsonKey(json);
    }
  },
};

/** `--config` files of d2r train, JSON and YAML, read against the settings schema. */
const configFile: FuzzTarget = {
  name: 'config-file',
  native: true,
  files: async () => ({
    // Long free text (a path, comments), so that some mutations leave a valid file.
    'settings.json': text(
      `{"method": "trades", "model": "smallcnn", "epochs": 3, "lr": 0.05, "limit": 500, "out": "runs/${'a'.repeat(300)}"}\n`,
    ),
    'settings.yaml': text(`# ${'notes '.repeat(50)}\nmethod: d2r\nguidance-mode: joint\nbatch-size: 64\nnorm: l2\nseed: 7\n`),
  }),
  async run(dir) {
    const { readConfigFile } = await import('../../src/cli/flags.js');
    const { TRAIN_FLAGS } = await import('../../src/cli/train.js');
    const { trainSettingsSchema } = await import('../../src/train/config.js');
    for (const name of ['settings.json', 'settings.yaml']) readConfigFile(join(dir, name), TRAIN_FLAGS, trainSettingsSchema);
  },
};

const EVAL_STATE = 'eval.state.json';

/** The files a run directory holds besides weights: config.json, metrics.jsonl, the checkpoint pointer and state, the evaluation state. */
const runFiles: FuzzTarget = {
  name: 'run-files',
  native: true,
  async files() {
    const { torch, io } = await import('../../src/index.js');
    const { resolveTrainConfig } = await import('../../src/train/config.js');
    const { writeRunConfigFile, appendMetricsRow } = await import('../../src/train/runFiles.js');
    const { encodeKept, writeEvaluationState } = await import('../../src/io/evaluationState.js');
    const { mkdtempSync, readdirSync, rmSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'd2r-fuzz-run-'));
    const facts = io.runFacts(resolveTrainConfig({ method: 'standard', model: 'smallcnn', dataset: 'fashion-mnist', out: dir }));
    writeRunConfigFile(dir, facts);
    appendMetricsRow(join(dir, 'metrics.jsonl'), { type: 'run', resumedAfterEpoch: 0, ...facts });
    torch.tidy(() => {
      io.saveCheckpoint(dir, {
        epoch: 1,
        target: { 'fc.weight': torch.tensor([1, 2, 3, 4], [2, 2]) },
        optimizer: { meta: { lr: 0.1 }, tensors: { 'momentum.0': torch.tensor([5, 6]) } },
        extra: { run: { method: 'standard' } },
      });
      writeEvaluationState(join(dir, EVAL_STATE), {
        format: 'd2r-evaluation-state',
        version: 1,
        key: 'k',
        cleanCorrect: [true, true, false],
        brokenBy: ['pgd20', null, null],
        attacks: [{ name: 'pgd20', robustAccuracy: 1 / 3, seconds: 1 }],
        current: { name: 'apgd-ce', todo: [1], batchesDone: 0, seconds: 0 },
        warnings: [],
        kept: encodeKept([0], torch.tensor([0.25, 0.5, 0.75, 1], [1, 1, 2, 2])),
      });
    });
    const files: Record<string, Uint8Array> = {};
    const collect = (rel: string): void => {
      const path = join(dir, rel);
      if (statSync(path).isDirectory()) for (const name of readdirSync(path)) collect(join(rel, name));
      else files[rel] = readFileSync(path);
    };
    for (const name of readdirSync(dir)) collect(name);
    rmSync(dir, { recursive: true });
    return files;
  },
  async run(dir) {
    const { torch, io } = await import('../../src/index.js');
    const { readRunConfigFile, readMetricsRows } = await import('../../src/train/runFiles.js');
    const { decodeKept, evaluationStateSchema } = await import('../../src/io/evaluationState.js');
    readRunConfigFile(dir);
    readMetricsRows(join(dir, 'metrics.jsonl'));
    torch.tidy(() => void io.readCheckpoint(dir, false));
    const state = io.readRunFile(join(dir, EVAL_STATE), evaluationStateSchema);
    if (state.kept) decodeKept(state.kept, join(dir, EVAL_STATE)).dispose();
  },
};

export const FUZZ_TARGETS: FuzzTarget[] = [idx, cifar, jpeg, jsonKeys, safetensors, torchSave, tinyImageNet, configFile, runFiles];

/** Parsers gone wrong in each way the harness must catch; only its own test runs them. */
const broken = (name: string, run: (dir: string) => void): FuzzTarget => ({
  name,
  files: async () => ({ 'input.bin': patternBytes(64) }),
  run,
});

export const BROKEN_TARGETS: FuzzTarget[] = [
  broken('broken-throws-string', () => {
    throw 'a string';
  }),
  broken('broken-unnamed-error', () => {
    throw new Error('no file named here');
  }),
  broken('broken-hangs', () => {
    for (;;);
  }),
  broken('broken-crashes', () => process.abort()),
];

export function fuzzTarget(name: string): FuzzTarget {
  const target = [...FUZZ_TARGETS, ...BROKEN_TARGETS].find((t) => t.name === name);
  if (target === undefined) throw new Error(`unknown fuzz target '${name}'; expected one of ${FUZZ_TARGETS.map((t) => t.name).join(', ')}`);
  return target;
}
