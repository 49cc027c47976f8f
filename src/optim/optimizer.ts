// The optimiser base: parameter groups, zeroGrad, step under noGrad, and state
// dicts for resuming a run.
import * as torch from '../engine/torch.js';
import { Tensor } from '../engine/tensor.js';

/** Hyper-parameters of one group (lr, momentum, betas, ...): JSON values only. */
export type Hyper = Record<string, number | boolean | number[]>;

export interface ParamGroup<H extends Hyper> {
  params: Tensor[];
  options: H;
}

/** What the constructor and addParamGroup take: parameters plus per-group overrides of the defaults. */
export type ParamGroupSpec<H extends Hyper = Hyper> = { params: Tensor[] } & Partial<H>;
export type ParamsOrGroups<H extends Hyper = Hyper> = Tensor[] | ParamGroupSpec<H>[];

/**
 * An optimiser's state, in two parts so that a checkpoint can keep the first in
 * JSON and the second in safetensors:
 *
 * - `meta` (JSON-serialisable):
 *   - `type`: 'SGD', 'Adam' or 'AdamW'; loading into another type is refused.
 *   - `groups`: per parameter group its hyper-parameters (this library's option
 *     names: lr, momentum, dampening, weightDecay, nesterov, betas, eps, amsgrad)
 *     and `params`, the indices of its parameters. As in PyTorch, parameters are
 *     numbered 0, 1, ... across all groups in group order.
 *   - `steps`: parameter index (as a string) -> the number of updates it has had
 *     (PyTorch's state[i]['step']); parameters never updated are absent.
 * - `tensors`: `<param index>.<state name>` -> tensor, with PyTorch's state names:
 *   `momentum_buffer` (SGD with momentum), `exp_avg`, `exp_avg_sq` and, with
 *   amsgrad, `max_exp_avg_sq` (Adam, AdamW). Each has its parameter's shape.
 *
 * stateDict() returns the optimiser's own tensors (not copies); loadStateDict()
 * copies what it is given.
 */
export interface OptimizerState {
  meta: {
    type: string;
    groups: (Hyper & { params: number[] })[];
    steps: Record<string, number>;
  };
  tensors: Record<string, Tensor>;
}

/** What step() hands the update for one parameter that has a gradient. */
export interface ParamUpdate {
  param: Tensor;
  grad: Tensor;
  /** The tensors named by stateNames once they exist (create them with setState). */
  state: Map<string, Tensor>;
  /** This parameter's update count, from 1. */
  step: number;
}

/** Per-parameter state: the step count and named tensors (owned by the optimiser, outside every scope). */
interface ParamState {
  step: number;
  tensors: Map<string, Tensor>;
}

export abstract class Optimizer<H extends Hyper = Hyper> {
  readonly paramGroups: ParamGroup<H>[] = [];
  private state = new Map<Tensor, ParamState>();
  /** Hyper-parameters for groups that do not set their own. */
  private defaults: H;

  protected constructor(
    /** The name stored in state dicts ('SGD', 'Adam', ...). */
    readonly type: string,
    params: ParamsOrGroups<H>,
    builtInDefaults: H,
    options: Partial<H>,
  ) {
    this.defaults = builtInDefaults;
    this.defaults = this.withDefaults(options, 'the options');
    if (params.length === 0) throw new Error(`${this.type}: got an empty parameter list`);
    const groups = params[0] instanceof Tensor ? [{ params: params as Tensor[] } as ParamGroupSpec<H>] : (params as ParamGroupSpec<H>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Throws when a group's hyper-parameters are out of range. */
  protected abstract validate(options: H): void;

  /** The state tensors a parameter holds after its first update under these options. */
  protected abstract stateNames(options: H): string[];

  /**
   * Updates in place every parameter of one group that has a gradient, in one
   * go (the optimisers make one fused native call per group).
   */
  protected abstract updateGroup(updates: ParamUpdate[], options: H): void;

  /** Adds parameters with their own hyper-parameters (unset ones take the defaults). */
  addParamGroup(group: ParamGroupSpec<H>): void {
    const options = this.withDefaults(group, 'parameter group');
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of group.params) {
      if (!(p instanceof Tensor)) throw new Error(`${this.type}: a parameter group holds something that is not a tensor`);
      if (seen.has(p)) throw new Error(`${this.type}: a parameter appears more than once across the parameter groups`);
      seen.add(p);
    }
    this.paramGroups.push({ params: [...group.params], options });
  }

  private withDefaults(overrides: Record<string, unknown>, where: string): H {
    const options: Record<string, unknown> = { ...this.defaults };
    for (const [k, v] of Object.entries(overrides)) {
      if (k === 'params') continue;
      if (!(k in this.defaults))
        throw new Error(`${this.type}: unknown option '${k}' in ${where} (known: ${Object.keys(this.defaults).join(', ')})`);
      if (typeof v !== typeof this.defaults[k] || Array.isArray(v) !== Array.isArray(this.defaults[k])) {
        throw new Error(
          `${this.type}: option '${k}' in ${where} must be like ${JSON.stringify(this.defaults[k])}, got ${JSON.stringify(v)}`,
        );
      }
      options[k] = Array.isArray(v) ? [...v] : v;
    }
    this.validate(options as H);
    return options as H;
  }

  /** Sets every gradient to null (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** One in-place update of every parameter that has a gradient; the others are skipped. */
  step(): void {
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const group of this.paramGroups) {
          const updates: ParamUpdate[] = [];
          for (const p of group.params) {
            const grad = p.grad;
            if (grad === null) continue;
            let s = this.state.get(p);
            if (s === undefined) this.state.set(p, (s = { step: 0, tensors: new Map() }));
            s.step += 1;
            updates.push({ param: p, grad, state: s.tensors, step: s.step });
          }
          if (updates.length > 0) this.updateGroup(updates, group.options);
        }
      }),
    );
  }

  /** Stores `value` as a state tensor that survives every scope; returns it. */
  protected setState(state: Map<string, Tensor>, name: string, value: Tensor): Tensor {
    state.get(name)?.dispose();
    state.set(name, torch.keep(value));
    return value;
  }

  private flatParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** The state in the format documented at OptimizerState. */
  stateDict(): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    const steps: Record<string, number> = {};
    this.flatParams().forEach((p, i) => {
      const s = this.state.get(p);
      if (s === undefined) return;
      steps[String(i)] = s.step;
      for (const [name, t] of s.tensors) tensors[`${i}.${name}`] = t;
    });
    let next = 0;
    const groups = this.paramGroups.map((g) => ({ ...structuredClone(g.options), params: g.params.map(() => next++) }));
    return { meta: { type: this.type, groups, steps }, tensors };
  }

  /**
   * Restores hyper-parameters and state saved by stateDict() of an optimiser
   * over parameters of the same shapes in the same group layout. Everything is
   * checked before anything changes; the tensors are copied (to each
   * parameter's dtype and device), so the caller may dispose its own.
   */
  loadStateDict(saved: OptimizerState): void {
    const fail = (what: string): never => {
      throw new Error(`${this.type}.loadStateDict: ${what}`);
    };
    const meta = saved?.meta;
    if (meta === null || typeof meta !== 'object') fail('the state has no meta part');
    if (meta.type !== this.type) fail(`the state is for ${JSON.stringify(meta.type)}, this optimizer is ${this.type}`);
    if (!Array.isArray(meta.groups) || meta.groups.length !== this.paramGroups.length) {
      fail(`the state has ${meta.groups?.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const flat = this.flatParams();
    let next = 0;
    const options = meta.groups.map((g, gi) => {
      if (g === null || typeof g !== 'object') fail(`group ${gi} is ${JSON.stringify(g)}, not an object`);
      const own = this.paramGroups[gi]!.params.map(() => next++);
      if (JSON.stringify(g.params) !== JSON.stringify(own))
        fail(`group ${gi} holds parameters ${JSON.stringify(g.params)}, this optimizer's ${JSON.stringify(own)}`);
      return { options: this.withDefaults(g, `saved group ${gi}`), params: own };
    });
    const steps = meta.steps ?? {};
    const loaded = new Map<Tensor, ParamState>();
    for (const [key, step] of Object.entries(steps)) {
      const p = flat[Number(key)];
      if (!/^\d+$/.test(key) || p === undefined) fail(`steps names parameter ${JSON.stringify(key)}, but there are ${flat.length}`);
      if (!Number.isSafeInteger(step) || step < 1) fail(`parameter ${key} has step count ${JSON.stringify(step)}`);
      loaded.set(p!, { step, tensors: new Map() });
    }
    for (const [key, value] of Object.entries(saved.tensors ?? {})) {
      const match = /^(\d+)\.(.+)$/.exec(key);
      const p = match ? flat[Number(match[1])] : undefined;
      const s = p ? loaded.get(p) : undefined;
      if (!s) fail(`state tensor '${key}' names no parameter with a step count`);
      if (!(value instanceof Tensor)) fail(`state tensor '${key}' is not a tensor`);
      if (JSON.stringify(value.shape) !== JSON.stringify(p!.shape))
        fail(`state tensor '${key}' has shape [${value.shape}], its parameter [${p!.shape}]`);
      s!.tensors.set(match![2]!, value);
    }
    // Every updated parameter must carry exactly the state its group's options call for.
    options.forEach(({ options: o, params }) => {
      const expected = this.stateNames(o).sort();
      for (const i of params) {
        const s = loaded.get(flat[i]!);
        const names = s ? [...s.tensors.keys()].sort() : [];
        if (s && JSON.stringify(names) !== JSON.stringify(expected)) {
          fail(`parameter ${i} has state [${names}], its options call for [${expected}]`);
        }
      }
    });
    // Valid: copy the tensors and replace the current state.
    for (const [p, s] of loaded) {
      for (const [name, t] of s.tensors) s.tensors.set(name, torch.keep(torch.tidy(() => t.detach().to(p.dtype).to(p.device).clone())));
    }
    this.disposeState();
    this.state = loaded;
    options.forEach(({ options: o }, gi) => (this.paramGroups[gi]!.options = o));
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const t of s.tensors.values()) t.dispose();
    this.state.clear();
  }

  /** Frees the state tensors; the optimiser starts afresh if it steps again. */
  dispose(): void {
    this.disposeState();
  }
}
