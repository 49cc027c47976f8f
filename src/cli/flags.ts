// Command-line flags: one table per command gives parsing, validation, defaults
// and the --help text, so the three can never disagree. A command whose
// settings have a schema (d2r train) derives its table from that schema.
import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import { parseDocument, visit, isScalar } from 'yaml';
import { z, parseSettings } from '../io/schema.js';
import { OptionError } from '../io/errors.js';
import { closestName, editDistance } from '../nn/closestName.js';

export type FlagType = 'string' | 'number' | 'integer' | 'boolean' | 'list';

export interface FlagSpec {
  name: string; // kebab-case on the command line, camelCase in the parsed object
  type: FlagType;
  help: string;
  default?: string | number | boolean | readonly string[] | readonly number[] | null;
  choices?: readonly string[];
  min?: number;
  /** The type of a list's entries (default string). */
  items?: 'string' | 'number' | 'integer';
  /** On the `config` flag: the schema a config file's settings must satisfy. */
  settings?: z.ZodType;
}

/** Wrong flags or values: the CLI prints the message and exits with 2. */
export class UsageError extends Error {}
export const camel = (name: string): string => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A decimal number as people write one (no hex, octal or binary, no empty string). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

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

function parseNumber(raw: string, integer: boolean, where: string): number {
  const text = raw.trim();
  const n = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(n)) throw new UsageError(`${where}: expected a number, got '${raw}'`);
  if (integer && !Number.isInteger(n)) throw new UsageError(`${where}: expected an integer, got '${raw}'`);
  return n;
}

/** Converts one flag's text and checks it against its spec; the error names the flag, the expected and the found. */
export function coerce(spec: FlagSpec, raw: string): unknown {
  const where = `--${spec.name}`;
  switch (spec.type) {
    case 'boolean':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw new UsageError(`${where}: expected true or false, got '${raw}'`);
    case 'number':
    case 'integer': {
      const n = parseNumber(raw, spec.type === 'integer', where);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`${where}: expected at least ${spec.min}, got ${n}`);
      return n;
    }
    case 'list': {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (spec.choices) for (const item of items) checkChoice(spec, item, where);
      return spec.items === 'number' || spec.items === 'integer'
        ? items.map((item) => parseNumber(item, spec.items === 'integer', where))
        : items;
    }
    case 'string':
      if (spec.choices) checkChoice(spec, raw, where);
      return raw;
  }
}

/** " (did you mean 'x'?)" when a candidate is a plausible misspelling of `name`, else ''. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const best = closestName(name, candidates);
  return best !== undefined && editDistance(name, best) <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

function checkChoice(spec: FlagSpec, value: string, where: string): void {
  if (!spec.choices!.includes(value))
    throw new UsageError(`${where}: expected one of ${spec.choices!.join(', ')}, got '${value}'${didYouMean(value, spec.choices!)}`);
}

/**
 * YAML reads 0x2, 0o7 and +12 as numbers; a setting must be written as a
 * decimal number, so those stay text and the schema refuses them by name.
 */
function parseYamlSettings(text: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw doc.errors[0]!;
  visit(doc, {
    Scalar(_, node) {
      if (isScalar(node) && typeof node.value === 'number' && node.source !== undefined && !DECIMAL.test(String(node.source)))
        node.value = String(node.source);
    },
  });
  return doc.toJS();
}

/**
 * Reads a JSON or YAML config file whose keys are flag names (kebab or camel
 * case); `schema` checks the settings, and an error names the file and the setting.
 */
export function readConfigFile(path: string, specs: FlagSpec[], schema: z.ZodType): Record<string, unknown> {
  const source = `config file ${path}`;
  if (!existsSync(path)) throw new UsageError(`${source} does not exist`);
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(path) ? parseYamlSettings(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: cannot parse: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`${source}: expected a mapping of setting names to values`);
  }
  const known = new Set(specs.filter((s) => s.name !== 'config').map((s) => camel(s.name)));
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(camel(key)))
      throw new UsageError(
        `${source}: unknown setting '${key}'${didYouMean(
          key,
          specs.filter((s) => s.name !== 'config').map((s) => s.name),
        )}`,
      );
    settings[camel(key)] = value;
  }
  try {
    return parseSettings(schema, settings, source) as Record<string, unknown>;
  } catch (err) {
    throw err instanceof OptionError ? new UsageError(err.message) : err;
  }
}

/**
 * Parses argv against the specs: defaults, then a --config file when the specs
 * have one, then the flags themselves. Flags without a default and not given
 * are absent. Returns null when --help was asked. Positional arguments are an
 * error unless `positionals` is set; they are then returned as `positionals`.
 */
/**
 * Parses argv against specs. Values come, each over the one before: the specs'
 * defaults, `o.base` (e.g. the recorded settings of a run being resumed), the
 * --config file, the flags given.
 */
export function parseFlags(
  argv: string[],
  specs: FlagSpec[],
  o: { positionals?: boolean; base?: Record<string, unknown> } = {},
): Record<string, unknown> | null {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const s of specs) options[s.name] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    let message = (err as Error).message.replace(/\. To specify.*$/s, '');
    const unknown = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(--?[^'=]+)/.exec(message)?.[1] : undefined;
    if (unknown) message += didYouMean(unknown, ['--help', ...specs.map((s) => `--${s.name}`)]);
    throw new UsageError(message);
  }
  if (parsed.values.help) return null;
  if (!o.positionals && parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}' (flags start with --)`);
  const result: Record<string, unknown> = {};
  for (const s of specs) if (s.default !== undefined && s.default !== null) result[camel(s.name)] = s.default;
  Object.assign(result, o.base);
  const configPath = parsed.values['config'];
  const configSpec = specs.find((s) => s.name === 'config');
  if (typeof configPath === 'string' && configSpec?.settings) Object.assign(result, readConfigFile(configPath, specs, configSpec.settings));
  for (const s of specs) {
    const raw = parsed.values[s.name];
    if (raw === undefined || s.name === 'config') continue;
    result[camel(s.name)] = typeof raw === 'boolean' ? raw : coerce(s, raw);
  }
  if (o.positionals) result['positionals'] = parsed.positionals;
  return result;
}

/** The flags' values with null for every flag that is absent (for commands that test for null). */
export function withNulls(specs: FlagSpec[], values: Record<string, unknown>): Record<string, unknown> {
  return { ...Object.fromEntries(specs.map((s) => [camel(s.name), null])), ...values };
}

interface JsonSchemaProperty {
  type?: string | string[];
  enum?: string[];
  minimum?: number;
  description?: string;
  items?: { type?: string };
}

/**
 * The flags of a settings schema: one per setting, in the schema's order, with
 * its type, choices, minimum and description, and its default from `defaults`.
 * A `config` flag comes first: a JSON or YAML file of settings.
 */
export function flagsFromSchema(schema: z.ZodObject, defaults: Record<string, unknown>): FlagSpec[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, JsonSchemaProperty> };
  const flags: FlagSpec[] = [
    { name: 'config', type: 'string', help: 'JSON or YAML file with any of these settings (flags override it)', settings: schema },
  ];
  for (const [key, p] of Object.entries(json.properties)) {
    const type = Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type;
    const flagType: FlagType = type === 'array' ? 'list' : type === 'integer' || type === 'number' || type === 'boolean' ? type : 'string';
    const itemType = p.items?.type;
    flags.push({
      name: kebab(key),
      type: flagType,
      help: p.description ?? '',
      ...(defaults[key] !== undefined ? { default: defaults[key] as FlagSpec['default'] } : {}),
      ...(p.enum ? { choices: p.enum } : {}),
      ...(p.minimum !== undefined ? { min: p.minimum } : {}),
      ...(itemType === 'integer' || itemType === 'number' ? { items: itemType } : {}),
    });
  }
  return flags;
}

/** A setting's flag: 'milestones[1]' -> '--milestones[1]'. */
function flagOf(option: string): string {
  const root = /^[A-Za-z0-9]+/.exec(option)?.[0] ?? option;
  return `--${kebab(root)}${option.slice(root.length)}`;
}

/** A library OptionError in the command line's words: the flag for the setting (a config file's settings keep their names). */
export function usageErrorFrom(err: OptionError): UsageError {
  return new UsageError(err.source ? err.message : err.describe(flagOf));
}
