/**
 * The text grammar shared by the CLI and the Slack slash command: `buy 415 --reason "new line"`.
 * Words fill the command's positional args in order; `--flag value`, `--flag=value` and bare
 * boolean flags fill the rest. Values are coerced by the zod field they land in (numbers, comma
 * lists, booleans), then the command's own schema validates everything.
 */
import type { z } from 'zod';
import type { AnyCommand } from './command.js';
import { CoreError } from './errors.js';

/** Splits text into words, honouring "double", 'single' and Slack's “curly” quotes. */
export function tokenize(text: string): string[] {
  const normalized = text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'");
  const words: string[] = [];
  let current = '';
  let quote: string | null = null;
  let inWord = false;
  for (const char of normalized) {
    if (quote) {
      if (char === quote) quote = null;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote) {
    throw new CoreError(
      'INVALID_INPUT',
      `A ${quote} quote is not closed. Close it, or leave quotes out.`,
    );
  }
  if (inWord) words.push(current);
  return words;
}

type FieldKind = 'string' | 'number' | 'boolean' | 'array' | 'unknown';

function fieldKind(schema: z.ZodType | undefined): FieldKind {
  let current = schema as unknown as { _zod?: { def: Record<string, unknown> } } | undefined;
  for (let depth = 0; current?._zod && depth < 10; depth++) {
    const def = current._zod.def;
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'nullable':
      case 'prefault':
      case 'readonly':
        current = def.innerType as typeof current;
        continue;
      case 'pipe':
        current = def.in as typeof current;
        continue;
      case 'string':
      case 'enum':
      case 'literal':
        return 'string';
      case 'number':
      case 'int':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array':
        return 'array';
      default:
        return 'unknown';
    }
  }
  return 'unknown';
}

const camel = (flag: string) =>
  flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
const kebab = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

function coerce(kind: FieldKind, raw: string): unknown {
  switch (kind) {
    case 'number': {
      const value = Number(raw);
      return raw.trim() === '' || Number.isNaN(value) ? raw : value;
    }
    case 'boolean':
      return raw === 'true' || raw === 'yes' || raw === '1'
        ? true
        : raw === 'false' || raw === 'no' || raw === '0'
          ? false
          : raw;
    case 'array':
      return raw
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/** Names of the flags a command takes, for help text and for the Slack manifest check. */
export function flagNames(command: AnyCommand): string[] {
  const positional = new Set(command.args.map((arg) => arg.name));
  return Object.keys(command.input.shape)
    .filter((key) => !positional.has(key))
    .map(kebab);
}

/**
 * Parses the words after the command name into the command's raw input (not yet validated).
 * Unknown flags and extra words are refused here with the command's usage.
 */
export function parseWords(command: AnyCommand, words: string[]): Record<string, unknown> {
  const shape = command.input.shape as Record<string, z.ZodType>;
  const input: Record<string, unknown> = {};
  const positional: string[] = [];
  const usage = `Usage: ${command.usage}`;

  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word.startsWith('--') && word.length > 2) {
      const [rawName, inline] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const key = camel(rawName);
      if (!(key in shape)) {
        const known = flagNames(command).map((name) => `--${name}`);
        throw new CoreError(
          'INVALID_INPUT',
          `${command.name} has no option --${rawName}.${known.length ? ` Options: ${known.join(', ')}.` : ''} ${usage}`,
        );
      }
      const kind = fieldKind(shape[key]);
      if (kind === 'boolean' && inline === undefined) {
        input[key] = true;
        continue;
      }
      const value = inline ?? words[++i];
      if (value === undefined) {
        throw new CoreError('INVALID_INPUT', `--${rawName} needs a value. ${usage}`);
      }
      input[key] = coerce(kind, value);
    } else {
      positional.push(word);
    }
  }

  // Most commands take their words in order; a few place them by what they are (`list 415`).
  const placed = command.placeWords ? command.placeWords(positional) : positional;
  let index = 0;
  for (const arg of command.args) {
    if (index >= placed.length) break;
    if (arg.rest) {
      input[arg.name] = placed
        .slice(index)
        .filter((word) => word !== undefined)
        .join(' ');
      index = placed.length;
    } else {
      const word = placed[index];
      if (word !== undefined) input[arg.name] = coerce(fieldKind(shape[arg.name]), word);
      index++;
    }
  }
  if (index < placed.length) {
    throw new CoreError(
      'INVALID_INPUT',
      `${command.name} does not take "${placed.slice(index).join(' ')}". ${usage}`,
    );
  }
  const missing = command.args.find((arg) => arg.required && input[arg.name] === undefined);
  if (missing) {
    const example = command.examples[0] ? `, e.g. ${command.examples[0]}` : '';
    throw new CoreError(
      'INVALID_INPUT',
      `${command.name} needs ${missing.says ?? missing.name}${example}. ${usage}`,
    );
  }
  return input;
}
