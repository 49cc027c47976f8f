// Base of the bundled models: optional input normalisation, then the network.
import { type Tensor } from '../engine/tensor.js';
import { Module } from '../nn/module.js';
import { Normalize, type NormalizeOptions } from '../nn/normalize.js';

export interface ClassifierOptions {
  numClasses?: number;
  inChannels?: number;
  /** Per-channel mean/std applied at the start of forward (kept out of the state dict). */
  normalize?: NormalizeOptions;
}

export abstract class ImageClassifier extends Module {
  private readonly inputNormalization: Normalize | null;

  protected constructor(inChannels: number, normalize: NormalizeOptions | undefined) {
    super();
    if (normalize !== undefined && normalize.mean.length !== inChannels) {
      throw new Error(
        `${new.target.name}: normalize has ${normalize.mean.length} channel values but the model takes ${inChannels} channels`,
      );
    }
    this.inputNormalization = normalize === undefined ? null : this.registerModule('normalize', new Normalize(normalize));
  }

  /** Logits [N, numClasses] for images [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    return this.logits(this.inputNormalization === null ? x : this.inputNormalization.forward(x));
  }

  /** The network proper, on already normalised input. */
  protected abstract logits(x: Tensor): Tensor;
}
