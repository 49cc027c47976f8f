// TorchScript models as the target or guidance of a run (--torchscript,
// --guidance-torchscript; docs/models.md, "Training your own architecture"):
// the run loads the user's script, records its sha256 in config.json, refuses
// to resume with a changed script, and hands the trained model back as
// TorchScript next to the usual state dict.
import { join } from 'node:path';
import type { Module } from '../nn/index.js';
import { ScriptModule } from '../nn/scriptModule.js';
import { loadTorchScript, saveTorchScript } from '../models/torchScript.js';
import type { Models } from '../models/targetAndGuidance.js';
import { MissingOptionError, OptionError } from '../io/errors.js';
import { fileSha256 } from '../io/runFacts.js';
import type { Dataset } from '../data/index.js';
import { createModelFor } from '../eval/runModels.js';
import { SCRIPTED, type RunModelName, type TrainConfig } from './config.js';

export type ModelRole = 'target' | 'guidance';

/** The trained model of a scripted role, as TorchScript, in the run directory (rank 0 writes it with each checkpoint). */
export const TRAINED_SCRIPT_FILES: Record<ModelRole, string> = {
  target: 'target.torchscript.pt',
  guidance: 'guidance.torchscript.pt',
};

/** The setting that names each role's script. */
const SCRIPT_OPTION = { target: 'torchscript', guidance: 'guidanceTorchscript' } as const satisfies Record<ModelRole, keyof TrainConfig>;

/** What config.json records of the scripts a run was loaded from (null: a zoo model). */
export interface ScriptHashes {
  torchscriptSha256: string | null;
  guidanceTorchscriptSha256: string | null;
}

const HASH_FIELD = { target: 'torchscriptSha256', guidance: 'guidanceTorchscriptSha256' } as const satisfies Record<
  ModelRole,
  keyof ScriptHashes
>;

const modelOf = (config: TrainConfig, role: ModelRole): RunModelName => (role === 'target' ? config.model : config.guidance);

/** The script file of a scripted role; null for a zoo model. */
function scriptPath(config: TrainConfig, role: ModelRole): string | null {
  const name = modelOf(config, role);
  if (name !== SCRIPTED) return null;
  const path = config[SCRIPT_OPTION[role]];
  if (path === null)
    throw new MissingOptionError(SCRIPT_OPTION[role], 'the TorchScript file (torch.jit.save)', {
      option: role === 'target' ? 'model' : 'guidance',
      value: SCRIPTED,
    });
  return path;
}

/** The sha256 of each script the run loads (the guidance's only when the method has one). */
export function scriptHashes(config: TrainConfig, withGuidance: boolean): ScriptHashes {
  const hash = (role: ModelRole): string | null => {
    const path = role === 'guidance' && !withGuidance ? null : scriptPath(config, role);
    return path === null ? null : fileSha256(path);
  };
  return { torchscriptSha256: hash('target'), guidanceTorchscriptSha256: hash('guidance') };
}

/** A role's model, freshly built from the zoo or loaded from its script, on the run's device. */
export function createTrainModel(config: TrainConfig, role: ModelRole, data: Dataset): Module {
  const name = modelOf(config, role);
  return name === SCRIPTED
    ? loadTorchScript(scriptPath(config, role)!, { device: config.device })
    : createModelFor(name, data, config.dropout, config.device);
}

/**
 * Refuses to resume with a script whose content differs from the one the run
 * was trained from (config.json's sha256): its checkpoints hold that script's weights.
 */
export function checkScriptsUnchanged(config: TrainConfig, recorded: Partial<ScriptHashes>, now: ScriptHashes, configFile: string): void {
  for (const role of ['target', 'guidance'] as const) {
    const before = recorded[HASH_FIELD[role]] ?? null;
    const after = now[HASH_FIELD[role]];
    if (before === null || after === null || before === after) continue;
    throw new OptionError(
      SCRIPT_OPTION[role],
      `the script the run was trained from (sha256 ${before}, as ${configFile} records) to resume`,
      `${scriptPath(config, role)}, whose sha256 is now ${after}`,
    );
  }
}

/** Writes each scripted model of the run as TorchScript into `runDir` (its architecture with the current weights). */
export function saveTrainedScripts(runDir: string, models: Models): void {
  for (const role of ['target', 'guidance'] as const) {
    const model = models[role];
    if (model instanceof ScriptModule) saveTorchScript(join(runDir, TRAINED_SCRIPT_FILES[role]), model);
  }
}
