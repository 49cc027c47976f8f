// Validation against zod schemas, with messages that name the file or the
// setting, the field, what was expected and what was found. Every run file and
// the train settings are checked through here, so all of them read alike.
import { z } from 'zod';
import { RunFileError, OptionError, fileSystemError } from './errors.js';
import { readJsonFile } from './json.js';
import { appendFileSync } from 'node:fs';
import { writeJsonAtomic } from './atomic.js';

export { z };
export type { RefinementCtx } from 'zod';

/** One problem of a value: the field's path ('attacks[2].robustAccuracy'), the expectation, the value found. */
interface Problem {
  path: string;
  expected: string;
  found: unknown;
  /** True when the field is absent (found is then undefined). */
  missing: boolean;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const input = (issue as { input?: unknown }).input;
      // An integer asked for where not even a number was given: say "a number", as the flag parser does.
      if (issue.expected === 'int') return typeof input === 'number' ? 'an integer' : 'a number';
      if (issue.expected === 'boolean') return 'true or false';
      if (issue.expected === 'number' && typeof input === 'number') return 'a finite number';
      return article(issue.expected);
    }
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `at least ${String(issue.minimum)} entries`
        : `${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `at most ${String(issue.maximum)} entries`
        : `${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `no field ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    default:
      return issue.message;
  }
}

/** A zod issue as a problem of a field. */
function problemOf(issue: z.core.$ZodIssue): Problem {
  const input = (issue as { input?: unknown }).input;
  return {
    path: fieldPath(issue.path),
    expected: expectedOf(issue),
    found: input,
    missing: input === undefined && issue.code === 'invalid_type',
  };
}

/** A value as a file's reader sees it: `number 1.5`, `string "low"`, `null`, `an array`. */
export function describeFound(v: unknown, missing = v === undefined): string {
  if (missing) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${text.length > 40 ? text.slice(0, 37) + '...' : text}`;
}

/**
 * The value parsed by `schema`, or a RunFileError naming `where` (a file, or
 * "file line N"), the field, the expected and the found.
 */
export function parseRunFile<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const p = problemOf(issue);
  const field = p.path === '' ? 'the file' : `'${p.path}'`;
  // A refinement states the problem itself; `params.sibling` names another field of the same object.
  if (issue.code === 'custom') {
    const sibling = (issue.params as { sibling?: string } | undefined)?.sibling;
    const parent = fieldPath(issue.path.slice(0, -1));
    const message = sibling === undefined ? issue.message : issue.message.replace('{sibling}', `'${parent ? `${parent}.` : ''}${sibling}'`);
    throw new RunFileError(`${where}: ${field} ${message}`);
  }
  throw new RunFileError(`${where}: ${field} should be ${p.expected}, found ${describeFound(p.found, p.missing)}`);
}

/** Reads and validates a JSON run file. */
export function readRunFile<S extends z.ZodType>(path: string, schema: S): z.output<S> {
  return parseRunFile(schema, readJsonFile(path), path);
}

/** Checks that a writer's value conforms to its file's schema: a failure is a bug in the writer, not the user's. */
function conforming<S extends z.ZodType>(schema: S, value: z.input<S>, path: string): void {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`internal error: the value written to ${path} breaks its schema: ${z.prettifyError(r.error)}`);
}

/** Writes a JSON run file atomically, after checking it against the schema its readers use. */
export function writeRunFile<S extends z.ZodType>(path: string, schema: S, value: z.input<S>): void {
  conforming(schema, value, path);
  writeJsonAtomic(path, value);
}

/** Appends one line to a JSON Lines run file, after checking it against the schema its readers use. */
export function appendRunFileLine<S extends z.ZodType>(path: string, schema: S, value: z.input<S>): void {
  conforming(schema, value, path);
  try {
    appendFileSync(path, JSON.stringify(value) + '\n');
  } catch (err) {
    throw fileSystemError(err, 'write', path);
  }
}

/** A setting's value as a user wrote it: `'many'`, `[1]`, `null`. */
export function describeSetting(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));
}

/**
 * Settings parsed by `schema`, or an OptionError naming the first offending
 * setting (its option name), the expected and the found. `source` says where
 * they came from (e.g. a config file) when not from the caller directly.
 */
export function parseSettings<S extends z.ZodType>(schema: S, value: unknown, source?: string): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw new OptionError(issue.keys[0]!, 'a known setting', 'an unknown setting', source);
  const p = problemOf(issue);
  throw new OptionError(p.path, p.expected, describeSetting(p.found), source);
}

/** The JSON Schema of a run file, as published under docs/schemas/ (what the writer writes). */
export function jsonSchemaOf(schema: z.ZodType, title: string, description: string): Record<string, unknown> {
  return { ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), title, description };
}
