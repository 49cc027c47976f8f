// Command-line flags: one table per command gives parsing, validation, defaults
// and the --help text, so the three can never disagree.
import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export type FlagType = 'string' | 'number' | 'integer' | 'boolean' | 'list';

export interface FlagSpec {
  name: string; // kebab-case on the command line, camelCase in the parsed object
  type: FlagType;
  help: string;
  default?: string | number | boolean | string[] | null;
  choices?: readonly string[];
  min?: number;
}

export class UsageError extends Error {}

export const camel = (name: string): string => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function describeDefault(spec: FlagSpec): string {
  if (spec.default === undefined || spec.default === null) return '';
  const v = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
  return ` (default: ${v})`;
}

export function helpText(command: string, summary: string, specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.type === 'boolean' ? '' : ` <${s.choices ? s.choices.join('|') : s.type}>`}`;
    return `${left.padEnd(44)} ${s.help}${describeDefault(s)}`;
  });
  return `Usage: d2r ${command} [flags]\n\n${summary}\n\nFlags:\n${rows.join('\n')}\n  --help${' '.repeat(36)} Show this help\n`;
}

/** Checks one value against its spec and converts it; the error names the flag, the expected and the found. */
export function coerce(spec: FlagSpec, raw: unknown, source: string): unknown {
  const where = source === 'flag' ? `--${spec.name}` : `${source} '${spec.name}'`;
  if (raw === null) return null;
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new UsageError(`${where}: expected true or false, got '${String(raw)}'`);
    case 'number':
    case 'integer': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (String(raw).trim() === '' || !Number.isFinite(n)) throw new UsageError(`${where}: expected a number, got '${String(raw)}'`);
      if (spec.type === 'integer' && !Number.isInteger(n)) throw new UsageError(`${where}: expected an integer, got '${String(raw)}'`);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`${where}: expected at least ${spec.min}, got ${n}`);
      return n;
    }
    case 'list': {
      const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (spec.choices) for (const item of items) checkChoice(spec, item, where);
      return items;
    }
    case 'string': {
      const s = String(raw);
      if (spec.choices) checkChoice(spec, s, where);
      return s;
    }
  }
}

function checkChoice(spec: FlagSpec, value: string, where: string): void {
  if (!spec.choices!.includes(value)) throw new UsageError(`${where}: expected one of ${spec.choices!.join(', ')}, got '${value}'`);
}

/** Reads a JSON or YAML config file whose keys are flag names (kebab or camel case). */
export function readConfigFile(path: string, specs: FlagSpec[]): Record<string, unknown> {
  if (!existsSync(path)) throw new UsageError(`config file ${path} does not exist`);
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path}: cannot parse: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`config file ${path}: expected a mapping of flag names to values`);
  }
  const byCamel = new Map(specs.map((s) => [camel(s.name), s]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const spec = byCamel.get(camel(key));
    if (!spec || spec.name === 'config') throw new UsageError(`config file ${path}: unknown setting '${key}'`);
    out[camel(key)] = coerce(spec, value, `config file ${path}: setting`);
  }
  return out;
}

/**
 * Parses argv against the specs: defaults, then a --config file when the specs
 * have one, then the flags themselves. Returns null when --help was asked.
 */
export function parseFlags(argv: string[], specs: FlagSpec[]): Record<string, unknown> | null {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const s of specs) options[s.name] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ''));
  }
  if (parsed.values.help) return null;
  const result: Record<string, unknown> = {};
  for (const s of specs) result[camel(s.name)] = s.default ?? null;
  const configPath = parsed.values['config'];
  if (typeof configPath === 'string') Object.assign(result, readConfigFile(configPath, specs));
  for (const s of specs) {
    const raw = parsed.values[s.name];
    if (raw !== undefined) result[camel(s.name)] = coerce(s, raw, 'flag');
  }
  result['positionals'] = parsed.positionals;
  return result;
}
