// Reading JSON and JSON Lines files with errors that name the file, line and
// column. JSON.parse reports neither a line nor (always) a position, and quotes
// the whole text; so when it fails, a small scanner finds where and why.
import { readFileSync } from 'node:fs';
import { RunFileError } from './errors.js';

/** Parses a JSON file; a syntax error names the file, line and column. */
export function readJsonFile(path: string): unknown {
  return parseJson(readText(path), path, 1);
}

export interface JsonLine {
  /** 1-based line number in the file. */
  line: number;
  value: unknown;
  /** The line as written. */
  text: string;
}

/** Parses a JSON Lines file (blank lines skipped); a syntax error names the file and line. */
export function readJsonLines(path: string): JsonLine[] {
  const lines = readText(path).split('\n');
  const out: JsonLine[] = [];
  lines.forEach((raw, i) => {
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') return;
    out.push({ line: i + 1, value: parseJson(text, path, i + 1), text });
  });
  return out;
}

function readText(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RunFileError(`${path}: cannot read: ${(err as Error).message}`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** JSON.parse, with `firstLine` the file line the text starts on (for JSON Lines). */
export function parseJson(text: string, source: string, firstLine: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const { offset, reason } = locateJsonError(text);
    const before = text.slice(0, offset);
    const line = firstLine + (before.match(/\n/g)?.length ?? 0);
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    throw new RunFileError(`${source} line ${line}, column ${column}: malformed JSON: ${reason}`);
  }
}

class Located {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Where and why text is not JSON (the grammar of RFC 8259, nothing more). */
export function locateJsonError(text: string): { offset: number; reason: string } {
  let i = 0;
  const fail = (reason: string): never => {
    throw new Located(i, reason);
  };
  const found = (): string => (i >= text.length ? 'the end of the input' : JSON.stringify(text[i]));
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      else if (c === '"') {
        i++;
        return;
      } else if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('invalid escape in string');
      } else if (c < ' ') fail('control character in string (newlines must be written \\n)');
      else i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
        string();
        space();
        if (text[i] !== ':') fail(`expected ':' after the property name, found ${found()}`);
        i++;
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail(`expected ',' or '}', found ${found()}`);
      }
    } else if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail(`expected ',' or ']', found ${found()}`);
      }
    } else if (c === '"') string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail('invalid number');
      i = NUMBER.lastIndex;
    } else {
      const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
      if (word) i += word.length;
      else fail(`expected a value, found ${found()}`);
    }
  };
  try {
    value();
    space();
    if (i < text.length) fail(`unexpected ${found()} after the JSON value`);
  } catch (err) {
    if (err instanceof Located) return { offset: err.offset, reason: err.reason };
    throw err;
  }
  return { offset: 0, reason: 'not valid JSON' };
}
