// Typed access to the fields of untrusted JSON objects. Every failure says
// where (file, line, path of the field), what was expected and what was found.
import { ReportError } from './errors.js';

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v);
  return `${typeof v} ${text.length > 40 ? text.slice(0, 37) + '...' : text}`;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Fields {
  private constructor(
    readonly raw: Record<string, unknown>,
    /** e.g. "run/eval.json" or "run/metrics.jsonl line 3". */
    readonly where: string,
    /** e.g. "attacks[2]." for nested objects. */
    readonly prefix: string,
  ) {}

  static of(v: unknown, where: string, prefix = ''): Fields {
    if (!isRecord(v)) throw new ReportError(`${where}: ${prefix ? `'${prefix.slice(0, -1)}' should be` : 'expected'} a JSON object, found ${describe(v)}`);
    return new Fields(v, where, prefix);
  }

  fail(key: string, expected: string, found: unknown): never {
    throw new ReportError(`${this.where}: '${this.prefix}${key}' should be ${expected}, found ${describe(found)}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  number(key: string): number {
    const v = this.raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'a number', v);
    return v as number;
  }

  /** A number, or null where the field is null or missing. */
  numberOrNull(key: string): number | null {
    return this.has(key) ? this.number(key) : null;
  }

  integer(key: string): number {
    const v = this.number(key);
    if (!Number.isInteger(v)) this.fail(key, 'an integer', v);
    return v;
  }

  string(key: string): string {
    const v = this.raw[key];
    if (typeof v !== 'string') this.fail(key, 'a string', v);
    return v as string;
  }

  stringOrNull(key: string): string | null {
    return this.has(key) ? this.string(key) : null;
  }

  /** A nested object; null where missing or null when optional. */
  object(key: string): Fields;
  object(key: string, optional: true): Fields | null;
  object(key: string, optional = false): Fields | null {
    if (optional && !this.has(key)) return null;
    return Fields.of(this.raw[key], this.where, `${this.prefix}${key}.`);
  }

  /** The raw elements of an array field; [] where missing when optional. */
  array(key: string, optional = false): unknown[] {
    const v = this.raw[key];
    if (optional && (v === undefined || v === null)) return [];
    if (!Array.isArray(v)) this.fail(key, 'an array', v);
    return v as unknown[];
  }

  /** An array whose every element passes `check`; the failure names the element. */
  arrayOf<T>(key: string, what: string, check: (v: unknown) => v is T, optional = false): T[] {
    const items = this.array(key, optional);
    items.forEach((item, i) => {
      if (!check(item)) this.fail(`${key}[${i}]`, what, item);
    });
    return items as T[];
  }

  /** Objects of an array field, each wrapped for typed access. */
  objects(key: string, optional = false): Fields[] {
    return this.array(key, optional).map((item, i) => Fields.of(item, this.where, `${this.prefix}${key}[${i}].`));
  }
}

export const isInteger = (v: unknown): v is number => Number.isInteger(v);
export const isString = (v: unknown): v is string => typeof v === 'string';
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
export const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
