// A chain of modules applied in order. Children are named "0", "1", ...
// or, from a record or Map, by the given names (e.g. TRADES' conv1, relu1, ...).
import { type Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

export class Sequential extends Module {
  constructor(...modules: Module[]);
  /** Named children in the record's order (JS puts integer-like keys first: use a Map to mix those). */
  constructor(named: Record<string, Module> | Map<string, Module>);
  constructor(...args: Module[] | [Record<string, Module> | Map<string, Module>]) {
    super();
    const first = args[0];
    const entries: [string, Module][] =
      first instanceof Map
        ? [...first]
        : first !== undefined && !(first instanceof Module)
          ? Object.entries(first)
          : (args as Module[]).map((m, i) => [String(i), m]);
    for (const [name, module] of entries) this.registerModule(name, module);
  }

  get length(): number {
    return this.children().length;
  }

  /** The child at position i (negative counts from the end). */
  at(i: number): Module {
    const all = this.children();
    const m = all[i < 0 ? i + all.length : i];
    if (m === undefined) throw new Error(`Sequential: index ${i} out of range for ${all.length} modules`);
    return m;
  }

  /** The child named `name`. */
  get(name: string): Module {
    const found = this.namedChildren().find(([n]) => n === name);
    if (found === undefined) throw new Error(`Sequential: no child named '${name}'`);
    return found[1];
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const m of this.children()) out = m.forward(out);
    return out;
  }
}
