// Files: safetensors checkpoints and atomic writes.
export { loadSafetensors, saveSafetensors, serializeSafetensors, parseSafetensors, loadSafetensorsMetadata, SafetensorsError } from './safetensors.js';
export { writeFileAtomic, writeJsonAtomic } from './atomic.js';
