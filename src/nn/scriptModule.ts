// A TorchScript module (torch.jit.save) as a Module: forward runs the script in
// libtorch's interpreter, with autograd to the input and to the parameters.
// Each submodule of the script becomes a ScriptModule child, so names,
// namedParameters(), stateDict() and loadStateDict() follow the script's own
// tree as PyTorch names it. Parameters are the script's own tensors (gradients
// and optimiser steps reach the script); buffers share its storage.
import { native, type ScriptHandle } from '../engine/native.js';
import { Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export class ScriptModule extends Module {
  readonly #script: ScriptHandle;
  /** This module's own buffers as registered, in the script's order (to follow it across devices). */
  readonly #buffers: Tensor[] = [];

  private constructor(script: ScriptHandle) {
    super();
    this.#script = script;
    const members = native.scriptMembers(script);
    for (const [name, handle] of members.parameters) {
      const owned = new Tensor(handle, false);
      this.registerParameter(name, Parameter.sharing(owned));
      owned.dispose();
    }
    for (const [name, handle] of members.buffers) {
      const owned = new Tensor(handle, false);
      this.#buffers.push(this.registerBuffer(name, owned));
      owned.dispose();
    }
    for (const [name, child] of members.children) this.registerModule(name, new ScriptModule(child));
  }

  /**
   * Loads a TorchScript archive from its bytes (already checked as one; see
   * models.loadTorchScript), its tensors on `device` (default: where they were saved).
   */
  static fromBytes(bytes: Uint8Array, device?: torch.Device): ScriptModule {
    return new ScriptModule(native.scriptLoad(bytes, device === undefined ? null : String(device)));
  }

  forward(x: Tensor): Tensor {
    return new Tensor(native.scriptForward(this.#script, x.handle));
  }

  /** The module as torch.jit.save writes it: its code and its current tensors (torch.jit.load reads it). */
  toBytes(): Uint8Array {
    return new Uint8Array(native.scriptSave(this.#script));
  }

  override train(mode = true): this {
    native.scriptTrain(this.#script, mode);
    return super.train(mode);
  }

  /** Moves the script's tensors (parameters keep their identity; buffers follow). */
  override to(device: torch.Device): this {
    native.scriptTo(this.#script, String(device));
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const m of this.modules()) if (m instanceof ScriptModule) m.#followBuffers();
        for (const p of this.parameters()) {
          const g = p.grad;
          if (g !== null) p.grad = g.to(device);
        }
      }),
    );
    return this;
  }

  #followBuffers(): void {
    const handles = native.scriptMembers(this.#script).buffers;
    handles.forEach(([, handle], i) => {
      const moved = new Tensor(handle, false);
      this.#buffers[i]!.setData(moved);
      moved.dispose();
    });
  }
}
