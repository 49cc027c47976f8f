// Files: safetensors tensor files and atomic writes.
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
export { writeFileAtomic, writeJsonAtomic } from './atomic.js';
