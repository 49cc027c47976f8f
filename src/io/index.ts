// Files: safetensors tensor files, atomic writes, and the run files with their
// schemas (checkpoints, run facts, the evaluation state) and errors.
export {
  loadSafetensors,
  saveSafetensors,
  readSafetensors,
  loadSafetensorsMetadata,
  serializeSafetensors,
  parseSafetensors,
  SafetensorsError,
  MAX_HEADER_BYTES,
  MAX_TENSORS,
  MAX_RANK,
  type SafetensorsContents,
} from './safetensors.js';
export { writeFileAtomic, writeJsonAtomic, makeDirectory } from './atomic.js';
export { OptionError, MissingOptionError, RunFileError, FileSystemError, type OptionNamer } from './errors.js';
export { readJsonFile, readJsonLines, type JsonLine } from './json.js';
export { parseRunFile, readRunFile, writeRunFile, appendRunFileLine, parseSettings, jsonSchemaOf } from './schema.js';
export { runFacts, runFactsSchema, packageVersion, type RunFacts } from './runFacts.js';
export {
  saveCheckpoint,
  readCheckpoint,
  loadCheckpointWeights,
  latestCheckpointEpoch,
  checkpointPointerSchema,
  checkpointStateSchema,
  type CheckpointContents,
} from './checkpoint.js';
export { evaluationStateSchema, attackOutcomeSchema, writeEvaluationState, type EvaluationState } from './evaluationState.js';
export {
  TorchFileError,
  torchFileKind,
  describeKind,
  readZipArchive,
  MAX_RECORDS,
  type TorchFileKind,
  type ZipArchive,
} from './zipArchive.js';
export {
  parseTorchSave,
  serializeTorchSave,
  saveTorchSave,
  readWeightsFile,
  loadWeights,
  stripDataParallel,
  WRAPPER_KEYS,
  type WeightsFile,
} from './torchSave.js';
