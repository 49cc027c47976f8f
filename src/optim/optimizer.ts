// The optimiser base: parameter groups, zeroGrad, and state dicts for resume.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';

export type Hyper = Record<string, number | boolean | number[]>;

export interface ParamGroup<H extends Hyper> {
  params: Tensor[];
  options: H;
}

/**
 * A JSON part (hyper-parameters per group, and which parameters of the flat
 * list, numbered as PyTorch numbers them, each group holds) plus the state
 * tensors named `<paramIndex>.<stateName>`, ready for safetensors.
 */
export interface OptimizerState {
  meta: { type: string; groups: (Hyper & { params: number[] })[]; steps: Record<string, number> };
  tensors: Record<string, Tensor>;
}

export abstract class Optimizer<H extends Hyper = Hyper> {
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state tensors (kept outside every scope). */
  protected readonly state = new Map<Tensor, Map<string, Tensor>>();
  /** Per-parameter step counts. */
  protected readonly steps = new Map<Tensor, number>();

  protected constructor(
    params: Tensor[] | { params: Tensor[]; [k: string]: unknown }[],
    private readonly defaults: H,
  ) {
    const groups = params.length > 0 && !(params[0] as { params?: unknown }).params ? [{ params: params as Tensor[] }] : (params as { params: Tensor[] }[]);
    for (const g of groups) this.addParamGroup(g);
  }

  abstract get type(): string;
  protected abstract update(param: Tensor, grad: Tensor, options: H, state: Map<string, Tensor>, step: number): void;

  addParamGroup(group: { params: Tensor[]; [k: string]: unknown }): void {
    const options = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(group)) {
      if (k === 'params') continue;
      if (!(k in this.defaults)) throw new Error(`${this.type}: unknown option '${k}' (known: ${Object.keys(this.defaults).join(', ')})`);
      options[k] = v;
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of group.params) if (seen.has(p)) throw new Error(`${this.type}: a parameter appears in more than one group`);
    this.paramGroups.push({ params: [...group.params], options: options as H });
  }

  /** Sets every gradient to null (PyTorch's set_to_none). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            const grad = p.grad;
            if (grad === null) continue;
            let state = this.state.get(p);
            if (!state) this.state.set(p, (state = new Map()));
            const step = (this.steps.get(p) ?? 0) + 1;
            this.steps.set(p, step);
            this.update(p, grad, group.options, state, step);
          }
        }
      }),
    );
  }

  /** Stores a state tensor that survives scopes (the optimiser owns it). */
  protected setState(state: Map<string, Tensor>, name: string, value: Tensor): Tensor {
    state.get(name)?.dispose();
    state.set(name, torch.keep(value));
    return value;
  }

  private flatParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  stateDict(): OptimizerState {
    const flat = this.flatParams();
    const tensors: Record<string, Tensor> = {};
    const steps: Record<string, number> = {};
    flat.forEach((p, i) => {
      for (const [name, t] of this.state.get(p) ?? []) tensors[`${i}.${name}`] = t;
      const s = this.steps.get(p);
      if (s !== undefined) steps[String(i)] = s;
    });
    let next = 0;
    const groups = this.paramGroups.map((g) => ({ ...g.options, params: g.params.map(() => next++) }));
    return { meta: { type: this.type, groups, steps }, tensors };
  }

  /** Restores hyper-parameters and state; the tensors are copied, so the caller may dispose its own. */
  loadStateDict(saved: OptimizerState): void {
    const { meta, tensors } = saved;
    if (!meta || meta.type !== this.type) throw new Error(`optimizer state is for ${meta?.type ?? 'an unknown optimizer'}, this is ${this.type}`);
    if (meta.groups.length !== this.paramGroups.length) {
      throw new Error(`optimizer state has ${meta.groups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const flat = this.flatParams();
    meta.groups.forEach((g, gi) => {
      const group = this.paramGroups[gi]!;
      if (g.params.length !== group.params.length) {
        throw new Error(`optimizer state group ${gi} has ${g.params.length} parameters, this optimizer ${group.params.length}`);
      }
      const { params: _ignored, ...options } = g;
      group.options = { ...group.options, ...options } as H;
    });
    for (const s of this.state.values()) for (const t of s.values()) t.dispose();
    this.state.clear();
    this.steps.clear();
    for (const [key, value] of Object.entries(tensors)) {
      const dot = key.indexOf('.');
      const index = Number(key.slice(0, dot));
      const p = flat[index];
      if (dot < 0 || p === undefined) throw new Error(`optimizer state tensor '${key}' names no parameter (there are ${flat.length})`);
      if (JSON.stringify(value.shape) !== JSON.stringify(p.shape) && value.numel !== 1) {
        throw new Error(`optimizer state tensor '${key}': shape [${value.shape}] does not match parameter ${index} [${p.shape}]`);
      }
      let state = this.state.get(p);
      if (!state) this.state.set(p, (state = new Map()));
      state.set(key.slice(dot + 1), torch.keep(value.to(p.device).clone()));
    }
    for (const [i, s] of Object.entries(meta.steps)) this.steps.set(flat[Number(i)]!, s);
  }
}
