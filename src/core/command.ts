import type { z } from 'zod';
import { CoreError, asCoreError, isRefusal } from './errors.js';
import type { Deps, Progress } from './ports.js';
import type { Actor, AuditEvent } from './types.js';

export type Effect = 'read' | 'write' | 'spend';

/** What a command tells the audit trail about itself, beyond who ran it and how it ended. */
export interface AuditNote {
  target?: string | null;
  requestId?: string | null;
  monthlyCost?: number | null;
  upfrontCost?: number | null;
  currency?: string | null;
  detail?: Record<string, unknown>;
}

export interface CommandContext {
  deps: Deps;
  actor: Actor;
  /** Long work (sync) reports here; Slack, MCP and the terminal each show it their way. */
  progress?: Progress;
  signal?: AbortSignal;
  note(fields: AuditNote): void;
}

export interface PositionalArg {
  /** The input field the word fills. */
  name: string;
  required?: boolean;
  /** Takes the rest of the words, joined by spaces ("search San Francisco"). */
  rest?: boolean;
  /** What it is, for "claim needs the number to claim"; the field's name when not given. */
  says?: string;
}

/**
 * One descriptor per command, read by every front end: the CLI and Slack parse text into `input`
 * through `args`; MCP turns `input` into a JSON schema and `effect` into annotations.
 */
export interface CommandDescriptor<I extends z.ZodObject = z.ZodObject, O = unknown> {
  name: string;
  summary: string;
  effect: Effect;
  /** Text grammar, e.g. `buy <area code | +E.164> [--reason "…"]`. */
  usage: string;
  examples: string[];
  args: PositionalArg[];
  /**
   * Text grammar only (the CLI and Slack): which `args` slot each positional word fills, for a
   * command whose words mean what they are, not only where they stand (`list 415` is an area code,
   * `list pool` a scope). `undefined` leaves a slot empty, so its field takes its default; a word it
   * cannot place is refused here, with what to type. Without it, words fill `args` in order. MCP
   * callers name each field, so never come here.
   */
  placeWords?(words: string[]): Array<string | undefined>;
  /**
   * Only admins may run it. `run` still refuses everyone else itself (assertAdmin, with what it
   * is refusing); this tells the fronts not to offer it to anyone else: the MCP tool list leaves it
   * out for a caller who is no admin (a token never is).
   */
  adminOnly?: true;
  input: I;
  run(ctx: CommandContext, input: z.output<I>): Promise<O>;
}

export function defineCommand<I extends z.ZodObject, O>(
  descriptor: CommandDescriptor<I, O>,
): CommandDescriptor<I, O> {
  return descriptor;
}

export type AnyCommand = CommandDescriptor<z.ZodObject, unknown>;

/** Turns zod's issues into one sentence that names the field and what to type. */
export function describeZodError(error: z.ZodError, usage?: string): string {
  const parts = error.issues.map((issue) => {
    // `features.0` is the field `features`: the user typed a list, not an index.
    const field = issue.path.filter((key) => typeof key !== 'number').join('.');
    return field ? `${field}: ${issue.message}` : issue.message;
  });
  return `${parts.join('; ')}${usage ? `. Usage: ${usage}` : ''}`;
}

/** A value the user gave, as they would recognise it in an error (long text clipped). */
function shown(input: unknown): string {
  if (typeof input === 'string')
    return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  if (typeof input === 'number' || typeof input === 'boolean') return String(input);
  if (input === null) return 'null';
  return Array.isArray(input) ? 'a list' : typeof input;
}

const KINDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/**
 * zod's own texts ("Too small: expected number to be >=1") in words a user acts on ("must be at
 * least 1, not 0"). A schema's own message (`.max(500, 'keep the reason under 500 characters')`)
 * wins over these.
 */
export const friendlyIssue: z.core.$ZodErrorMap = (issue) => {
  const not = issue.input === undefined ? '' : `, not ${shown(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${KINDS[issue.expected] ?? issue.expected}${not}`;
    case 'too_small':
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1
          ? 'cannot be empty'
          : `needs at least ${issue.minimum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `needs at least ${issue.minimum}`;
      return `must be at least ${issue.minimum}${not}`;
    case 'too_big':
      if (issue.origin === 'string') return `is too long: at most ${issue.maximum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `takes at most ${issue.maximum}`;
      return `must be at most ${issue.maximum}${not}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}${not}`;
    default:
      return undefined; // zod's own text
  }
};

export interface RunOptions {
  progress?: Progress;
  signal?: AbortSignal;
  /** Audit name of the command when it could not be resolved (an unknown command). */
}

/**
 * Runs a command for any front end: validates the input, runs it, and writes exactly one audit
 * event whatever happens (refusals included). Throws CoreError only.
 */
export async function runCommand<O>(
  deps: Deps,
  command: CommandDescriptor<z.ZodObject, O>,
  actor: Actor,
  rawInput: unknown,
  options: RunOptions = {},
): Promise<O> {
  const started = performance.now();
  const note: AuditNote = {};
  try {
    // The usage line is the CLI's and Slack's grammar; an assistant calls a tool by its schema.
    const usage = actor.surface === 'mcp' ? undefined : command.usage;
    const nul = findNul(rawInput);
    if (nul !== null) {
      throw new CoreError(
        'INVALID_INPUT',
        `${nul ? `${nul}: ` : ''}text cannot contain a NUL character (\\0). Type it again without it.${usage ? ` Usage: ${usage}` : ''}`,
      );
    }
    const parsed = command.input.safeParse(rawInput, { error: friendlyIssue });
    if (!parsed.success) {
      throw new CoreError('INVALID_INPUT', describeZodError(parsed.error, usage));
    }
    const context: CommandContext = {
      deps,
      actor,
      ...(options.progress ? { progress: options.progress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      note: (fields) => Object.assign(note, fields),
    };
    const result = await command.run(context, parsed.data);
    await audit(deps, actor, command.name, 'ok', note, started);
    return result;
  } catch (thrown) {
    const error = asCoreError(thrown);
    await audit(
      deps,
      actor,
      command.name,
      isRefusal(error.code) ? 'refused' : 'failed',
      note,
      started,
      error,
    );
    throw error;
  }
}

/** Audits a refusal that happened before any command was found (unknown command, bad syntax). */
export async function auditRefusal(
  deps: Deps,
  actor: Actor,
  commandName: string,
  error: CoreError,
): Promise<void> {
  await audit(
    deps,
    actor,
    clip(commandName, 40) || '(none)',
    'refused',
    {},
    performance.now(),
    error,
  );
}

async function audit(
  deps: Deps,
  actor: Actor,
  command: string,
  outcome: AuditEvent['outcome'],
  note: AuditNote,
  started: number,
  error?: CoreError,
): Promise<void> {
  const event: AuditEvent = {
    at: deps.clock.now(),
    actor: actor.id,
    surface: actor.surface,
    command,
    target: note.target ? clip(note.target, 200) : null,
    outcome,
    errorCode: error?.code ?? null,
    message: error ? clip(error.message, 500) : null,
    monthlyCost: note.monthlyCost ?? null,
    upfrontCost: note.upfrontCost ?? null,
    currency: note.currency ?? null,
    requestId: note.requestId ?? null,
    durationMs: Math.round(performance.now() - started),
    detail: auditDetail(actor, note),
  };
  // The audit trail must not turn a refusal into a crash; a failed write is still surfaced.
  await deps.store.recordAudit(event);
}

/**
 * The command's own detail, plus, for an MCP token, the member it acted for: the event's actor
 * stays the token (`mcp:<name>`), and `onBehalfOf` says whose number or request it touched.
 */
function auditDetail(actor: Actor, note: AuditNote): Record<string, unknown> | null {
  const detail = actor.onBehalfOf ? { ...note.detail, onBehalfOf: actor.onBehalfOf } : note.detail;
  return detail ? wellFormed(detail) : null;
}

/**
 * Text for the audit trail: at most `max` UTF-16 units, never half a surrogate pair (which the
 * database refuses), and no NUL characters (which PostgreSQL text cannot hold).
 */
export function clip(text: string, max: number): string {
  return text.replace(/\0/g, '').slice(0, max).replace(LONE_SURROGATE, '\uFFFD');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The path of the first string holding a NUL character ('' for the input itself), or null. */
function findNul(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNul(item, `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = findNul(item, path ? `${path}.${key}` : key);
      if (found !== null) return found;
    }
  }
  return null;
}

/** A copy of `detail` whose strings the database accepts (see `clip`). */
function wellFormed(detail: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(detail, (_key, value: unknown) =>
      typeof value === 'string' ? clip(value, 2000) : value,
    ),
  ) as Record<string, unknown>;
}
