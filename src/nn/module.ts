// The Module base class: a tree of layers owning parameters and buffers,
// registered in insertion order so names and state-dict order match PyTorch's.
// Members are registered explicitly (registerModule, ...) or, as in PyTorch,
// by assigning them to fields.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Parameter, bufferFrom } from './parameter.js';
import { closestName } from './closestName.js';

export type StateDict = Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

interface Buffer {
  tensor: Tensor;
  /** Persistent buffers are saved in the state dict; others (e.g. input normalisation) are not. */
  persistent: boolean;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
/** Keys listed per kind of problem in a loadStateDict error; a hostile file may hold thousands. */
const LISTED_KEYS = 20;

/** The first LISTED_KEYS items (described), then how many more there are. */
function firstFew(items: string[], describe: (item: string) => string = (item) => item, more = ''): string[] {
  const shown = items.slice(0, LISTED_KEYS).map(describe);
  return items.length > LISTED_KEYS ? [...shown, `... and ${items.length - LISTED_KEYS} more${more}`] : shown;
}

/** '3 NaN, 1 +inf of 24 values', counted only for a tensor already found non-finite. */
function nonFiniteCounts(t: Tensor): string {
  return torch.tidy(() => {
    const count = (mask: Tensor): number => mask.sum().item();
    const nan = count(t.isnan());
    const positive = count(t.isinf().logicalAnd(t.gt(0)));
    const negative = count(t.isinf().logicalAnd(t.lt(0)));
    const parts = [
      [nan, 'NaN'],
      [positive, '+inf'],
      [negative, '-inf'],
    ]
      .filter(([n]) => n !== 0)
      .map(([n, what]) => `${n} ${what}`);
    return `${parts.join(', ')} of ${t.numel} values`;
  });
}

const isAllFinite = (t: Tensor): boolean => torch.tidy(() => t.isfinite().all().item() !== 0);
const join = (prefix: string, name: string): string => (prefix === '' ? name : `${prefix}.${name}`);

const isMember = (value: unknown): value is Module | Parameter => value instanceof Module || value instanceof Parameter;

/** The items of an array, Map or plain object; undefined for anything else. */
function collectionItems(value: object): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (value instanceof Map) return [...value.values()];
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null ? Object.values(value) : undefined;
}

export abstract class Module {
  training = true;
  // JS-private, so the scan for members assigned as fields never sees them.
  readonly #parameters = new Map<string, Parameter>();
  readonly #buffers = new Map<string, Buffer>();
  readonly #children = new Map<string, Module>();
  /** What is registered here, by identity: a field holding one of these is not registered again. */
  readonly #registered = new Set<Parameter | Module>();

  abstract forward(x: Tensor): Tensor;

  // Every read goes through these, so members assigned as fields are registered first.
  private get ownParameters(): Map<string, Parameter> {
    this.registerFields(undefined, true);
    return this.#parameters;
  }
  private get ownBuffers(): Map<string, Buffer> {
    this.registerFields(undefined, true);
    return this.#buffers;
  }
  private get ownChildren(): Map<string, Module> {
    this.registerFields(undefined, true);
    return this.#children;
  }

  // ---- registration ---------------------------------------------------------------
  private checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`${this.constructor.name}: invalid member name '${name}' (non-empty, no dots)`);
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  /** Registers a trainable tensor under `name`; a plain Tensor is wrapped into a Parameter. */
  protected registerParameter(name: string, value: Tensor): Parameter {
    this.registerFields(value, false);
    this.checkName(name);
    const p = value instanceof Parameter ? value : new Parameter(value);
    this.#parameters.set(name, p);
    this.#registered.add(p);
    return p;
  }

  /** Registers a non-trainable tensor (running statistics, constants); it gets its own untracked handle. */
  protected registerBuffer(name: string, value: Tensor, persistent = true): Tensor {
    this.registerFields(value, false);
    this.checkName(name);
    const tensor = bufferFrom(value);
    this.#buffers.set(name, { tensor, persistent });
    return tensor;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.registerFields(module, false);
    this.checkName(name);
    if (!(module instanceof Module)) throw new Error(`${this.constructor.name}: '${name}' is not a Module`);
    this.#children.set(name, module);
    this.#registered.add(module);
    return module;
  }

  /**
   * Registers the modules and parameters assigned as fields (`fc1 = new Linear(...)`)
   * under the field's name, as PyTorch's __setattr__ does. Runs before every
   * registration and every read, so members keep the order of assignment. A field
   * holding something registered already (`this.fc = this.registerModule('fc', ...)`,
   * or under another name) is skipped; one reassigned replaces the old member
   * in place. Plain tensors are not registered (use registerBuffer), as in PyTorch.
   * Collections of modules are checked on reads only: during construction their
   * members may still be about to be registered.
   */
  private registerFields(registering: unknown, checkCollections: boolean): void {
    let collections: [string, unknown[]][] | undefined;
    for (const [name, value] of Object.entries(this)) {
      if (value === registering || value === null || typeof value !== 'object' || this.#registered.has(value)) continue;
      if (value instanceof Module) this.adoptField(name, value, this.#children);
      else if (value instanceof Parameter) this.adoptField(name, value, this.#parameters);
      else if (checkCollections) {
        const items = collectionItems(value);
        if (items?.some((item) => isMember(item) && !this.#registered.has(item))) (collections ??= []).push([name, items]);
      }
    }
    if (collections !== undefined) this.refuseUnregistered(collections);
  }

  private adoptField<T extends Parameter | Module>(name: string, value: T, members: Map<string, T>): void {
    const previous = members.get(name);
    if (previous === undefined) this.checkName(name);
    else this.#registered.delete(previous);
    members.set(name, value);
    this.#registered.add(value);
  }

  /** Modules or parameters in an array, Map or object field cannot be named the way PyTorch would: refuse them loudly. */
  private refuseUnregistered(collections: [string, unknown[]][]): void {
    // Members registered deeper in the tree (e.g. an array of a child's layers) are fine too.
    const reachable = new Set<unknown>(this.#registered);
    for (const child of this.#children.values()) {
      for (const m of child.modules()) reachable.add(m);
      for (const p of child.parameters()) reachable.add(p);
    }
    for (const [name, items] of collections) {
      const loose = items.find((item) => isMember(item) && !reachable.has(item));
      if (loose === undefined) continue;
      const kind = Array.isArray(this[name as keyof this]) ? 'an array' : 'a collection';
      throw new Error(
        loose instanceof Module
          ? `${this.constructor.name}: field '${name}' holds ${kind} of modules that are not registered, so their parameters would be silently left out; ` +
              `assign new Sequential(...) instead (names ${name}.0, ${name}.1, ... as PyTorch's nn.ModuleList/Sequential), or register each with registerModule`
          : `${this.constructor.name}: field '${name}' holds ${kind} of parameters that are not registered, so they would be silently left out; register each with registerParameter`,
      );
    }
  }

  // ---- traversal ---------------------------------------------------------------------
  namedChildren(): [string, Module][] {
    return [...this.ownChildren];
  }
  children(): Module[] {
    return [...this.ownChildren.values()];
  }

  /** This module and all below it, depth first, each once; the root has the name ''. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [childName, child] of m.ownChildren) visit(child, join(name, childName));
    };
    visit(this, prefix);
    return out;
  }
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters of the whole tree with dotted names, each tensor once. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.ownParameters) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([join(prefix, name), p]);
      }
    }
    return out;
  }
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Buffers of the whole tree (persistent or not) with dotted names. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.ownBuffers) out.push([join(prefix, name), b.tensor]);
    }
    return out;
  }
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Calls fn on every module below and then on this one (PyTorch's apply order). */
  apply(fn: (m: Module) => void): this {
    for (const child of this.ownChildren.values()) child.apply(fn);
    fn(this);
    return this;
  }

  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  // ---- modes and devices ---------------------------------------------------------------
  train(mode = true): this {
    this.training = mode;
    for (const child of this.ownChildren.values()) child.train(mode);
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Moves every parameter (with its gradient) and buffer to `device`, keeping their identities. */
  to(device: torch.Device): this {
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const p of this.parameters()) {
          const g = p.grad;
          p.setData(p.to(device));
          if (g !== null) p.grad = g.to(device);
        }
        for (const b of this.buffers()) b.setData(b.to(device));
      }),
    );
    return this;
  }

  /**
   * Lays every 4-D parameter (with its gradient) and buffer out as channels-last (NHWC) in
   * memory, keeping identities and values: convolutions then run in NHWC end to end, about a
   * fifth faster on CPU (docs/engine.md, "Memory format"). PyTorch's
   * `model.to(memory_format=torch.channels_last)`. Files and state dicts are unaffected: their
   * bytes are always written in the logical (NCHW) order.
   */
  toChannelsLast(): this {
    const relayout = (t: Tensor): void => {
      if (t.shape.length === 4) t.setData(t.channelsLast());
    };
    torch.noGrad(() =>
      torch.tidy(() => {
        for (const p of this.parameters()) {
          relayout(p);
          if (p.grad !== null && p.grad.shape.length === 4) p.grad = p.grad.channelsLast();
        }
        for (const b of this.buffers()) relayout(b);
      }),
    );
    return this;
  }

  /** Clears every parameter's gradient (set to null, as PyTorch's set_to_none). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  // ---- state dict -----------------------------------------------------------------------
  /** The live tensors behind the state dict, in PyTorch's order: each module's parameters, its persistent buffers, then its children. */
  private stateEntries(prefix = '', out: [string, Tensor][] = []): [string, Tensor][] {
    for (const [name, p] of this.ownParameters) out.push([join(prefix, name), p]);
    for (const [name, b] of this.ownBuffers) if (b.persistent) out.push([join(prefix, name), b.tensor]);
    for (const [name, child] of this.ownChildren) child.stateEntries(join(prefix, name), out);
    return out;
  }

  /** Name -> tensor for parameters and persistent buffers. The tensors are detached views sharing the module's storage. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, t] of this.stateEntries()) out[name] = t.detach();
    return out;
  }

  /**
   * Copies the values of `dict` into this module's tensors in place (converting
   * dtype and device as needed). Shape mismatches always throw; with strict
   * (the default) missing and unexpected keys throw too, each unexpected key
   * naming the closest expected one. Floating tensors holding NaN or infinity
   * always throw: such weights would be evaluated as if they were fine.
   * Every problem is listed, and nothing is copied then.
   */
  loadStateDict(dict: StateDict | Map<string, Tensor>, { strict = true, from }: { strict?: boolean; from?: string } = {}): LoadResult {
    const source = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const entries = this.stateEntries();
    const expected = new Set(entries.map(([name]) => name));
    const missingKeys = entries.map(([name]) => name).filter((name) => !source.has(name));
    const unexpectedKeys = [...source.keys()].filter((name) => !expected.has(name));
    const mismatches: string[] = [];
    const nonFinite: string[] = [];
    for (const [name, target] of entries) {
      const value = source.get(name);
      if (value === undefined) continue;
      if (shapeText(value.shape) !== shapeText(target.shape)) {
        mismatches.push(`size mismatch for ${name}: expected shape ${shapeText(target.shape)}, found ${shapeText(value.shape)}`);
      } else if (torch.isFloating(value.dtype) && !isAllFinite(value)) {
        nonFinite.push(`non-finite values in ${name}: ${nonFiniteCounts(value)}`);
      }
    }
    // An unexpected key is most likely a missing one misnamed (a prefix, a typo), so those are suggested first.
    const suggestions = missingKeys.length > 0 ? missingKeys : [...expected];
    const suggest = (key: string): string => {
      const closest = closestName(key, suggestions);
      return closest === undefined ? key : `${key} (did you mean ${closest}?)`;
    };
    const problems = [
      ...(strict && missingKeys.length > 0 ? [`missing keys: ${firstFew(missingKeys).join(', ')}`] : []),
      ...(strict && unexpectedKeys.length > 0 ? [`unexpected keys: ${firstFew(unexpectedKeys, suggest).join(', ')}`] : []),
      ...firstFew(mismatches, undefined, ' size mismatches'),
      ...firstFew(nonFinite, undefined, ' non-finite tensors'),
    ];
    if (problems.length > 0) {
      const origin = from === undefined ? '' : ` from ${from}`;
      throw new Error(`loadStateDict: cannot load${origin} into ${this.constructor.name}:${problems.map((p) => `\n  ${p}`).join('')}`);
    }
    torch.noGrad(() => {
      for (const [name, target] of entries) {
        const value = source.get(name);
        if (value !== undefined) target.copy_(value);
      }
    });
    return { missingKeys, unexpectedKeys };
  }
}
