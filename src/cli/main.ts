/**
 * The `switchboard` command: the same grammar as the Slack slash command, for admins, scripts and
 * local use. `--json` prints one JSON document on stdout. Exit codes: 0 ok, 2 bad input,
 * 3 not allowed, 4 not found or conflict, 5 carrier or agent failure, 1 anything else.
 */
import type { App } from '../app.js';
import type { AnyCommand } from '../core/command.js';
import { auditRefusal, runCommand } from '../core/command.js';
import { commands, findCommand } from '../core/commands/index.js';
import type { ErrorCode } from '../core/errors.js';
import { CoreError, asCoreError } from '../core/errors.js';
import { flagNames, parseWords } from '../core/grammar.js';
import type { Actor } from '../core/types.js';
import { loadConfig, mask, secretValues } from '../config/config.js';
import type { ExtraCommand } from './extra-command.js';
import { renderers } from './render.js';
import { createProgressBar, interruptSignal, type ProgressBar } from './progress.js';

export const EXIT_CODES: Record<ErrorCode, number> = {
  INVALID_INPUT: 2,
  FORBIDDEN: 3,
  NOT_FOUND: 4,
  CONFLICT: 4,
  UPSTREAM: 5,
  UNAVAILABLE: 5,
  INTERNAL: 1,
};

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Tests pass an app; otherwise one is opened from the environment. */
  openApp?: () => Promise<App>;
  isTTY?: boolean;
}

const defaultIo = (): CliIo => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: Boolean(process.stderr.isTTY),
});

const VERSION = '0.1.0';

/** Commands outside the core grammar: each has its own help, printed without starting it. */
interface OtherCommand {
  name: string;
  summary: string;
  usage: string[];
  examples: string[];
  notes: string[];
}

const OTHER_COMMANDS: OtherCommand[] = [
  {
    name: 'serve',
    summary: 'Run Slack, MCP over HTTP and a health check in one process',
    usage: ['serve'],
    examples: ['switchboard serve', 'PORT=8080 switchboard serve'],
    notes: [
      'Listens on HOST:PORT (default 127.0.0.1:3000) until stopped (Ctrl-C or SIGTERM).',
      'Slack, the carriers and the database come from the environment: README, Configuration.',
    ],
  },
  {
    name: 'mcp',
    summary: 'Serve the MCP tools over stdio, for an AI assistant',
    usage: ['mcp [--as <member id>]'],
    examples: ['switchboard mcp', 'switchboard mcp --as U01ALICE'],
    notes: [
      'An AI assistant starts it and talks to it on stdin and stdout; logs go to stderr.',
      'Without --as the assistant acts as the local operator, an admin; tools may request spending, never approve it.',
    ],
  },
  {
    name: 'token',
    summary: 'Create, list or revoke MCP bearer tokens (admin)',
    usage: [
      'token create --name <name> --role reader|requester [--for <member id>]',
      'token list',
      'token revoke <name>',
    ],
    examples: [
      'switchboard token create --name claude-desktop --role requester',
      'switchboard token create --name alice-claude --role requester --for U01ALICE',
      'switchboard token list',
      'switchboard token revoke claude-desktop',
    ],
    notes: ['The secret is shown once, at creation; only its hash is kept.'],
  },
  {
    name: 'migrate',
    summary: 'Create or update the database schema (safe to run twice)',
    usage: ['migrate'],
    examples: ['switchboard migrate', 'DATABASE_URL=postgres://… switchboard migrate'],
    notes: [
      'Every command also migrates the store it opens; this does only that.',
      'On Supabase it needs DATABASE_URL, a direct connection (README: Production).',
    ],
  },
];

const findOther = (name: string | undefined) => OTHER_COMMANDS.find((c) => c.name === name);

/** Edits (insert, delete, substitute, swap two neighbours) between two short words. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function unknownCommand(name: string): CoreError {
  const names = [...commands.map((c) => c.name), ...OTHER_COMMANDS.map((c) => c.name)];
  const typed = name.toLowerCase();
  const [closest] = names
    .map((candidate) => ({ candidate, edits: distance(typed, candidate) }))
    .filter(({ edits }) => edits <= (typed.length > 4 ? 2 : 1))
    .sort((x, y) => x.edits - y.edits);
  return new CoreError(
    'INVALID_INPUT',
    `Unknown command "${name}".${closest ? ` Did you mean ${closest.candidate}?` : ''} Commands: ${names.join(', ')}. See: switchboard --help`,
  );
}

function otherHelp(command: OtherCommand): string {
  return [
    `${command.summary}.`,
    '',
    ...command.usage.map((u, i) => `${i === 0 ? 'Usage:' : '      '} switchboard ${u}`),
    '',
    ...command.notes,
    '',
    'Examples:',
    ...command.examples.map((example) => `  ${example}`),
    '',
  ].join('\n');
}

/** Commands outside the core, loaded only when asked for. */
const EXTRA_COMMANDS: Record<string, () => Promise<ExtraCommand>> = {
  serve: async () => (await import('../server/serve-cli.js')).serveCommand,
  mcp: async () => (await import('../mcp/mcp-cli.js')).mcpCommand,
  token: async () => (await import('../mcp/token-cli.js')).tokenCommand,
};

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = [
    'switchboard: the phone numbers behind your AI voice agents',
    '',
    'Usage: switchboard <command> [args] [--json] [--as <member id>]',
    '',
    'Commands:',
    ...commands.map(
      (c) =>
        `  ${c.name.padEnd(width)}  ${c.summary}${c.effect === 'spend' ? ' [spends money]' : ''}${c.adminOnly ? ' [admins only]' : ''}`,
    ),
    ...OTHER_COMMANDS.map(({ name, summary }) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    'Options:',
    '  --json            print one JSON document on stdout',
    '  --as <member id>  act as this member (a Slack user id such as U01ALICE); without it you are',
    '                    the local operator, an admin (set SWITCHBOARD_AS to change the default)',
    '  --help            help for a command: switchboard buy --help',
    '',
    'Start with: switchboard search 415',
  ];
  return lines.join('\n') + '\n';
}

function commandHelp(command: AnyCommand): string {
  // A rest argument may also be given as a flag (`deny R-1 --reason "…"`): its usage says so.
  const flags = [
    ...flagNames(command),
    ...command.args.map((arg) => arg.name).filter((name) => command.usage.includes(`--${name}`)),
  ];
  return [
    `${command.summary}.`,
    '',
    `Usage: switchboard ${command.usage}`,
    '',
    `Options: ${[...flags.map((f) => `--${f}`), '--json', '--as <member id>'].join(', ')}`,
    '',
    'Examples:',
    ...command.examples.map((example) => `  switchboard ${example}`),
    '',
  ].join('\n');
}

interface Globals {
  json: boolean;
  as: string | undefined;
  help: boolean;
  version: boolean;
  words: string[];
}

function takeGlobals(argv: string[]): Globals {
  const globals: Globals = { json: false, as: undefined, help: false, version: false, words: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--json') globals.json = true;
    else if (arg === '--help' || arg === '-h') globals.help = true;
    else if (arg === '--version' || arg === '-v') globals.version = true;
    else if (arg === '--as') {
      const value = argv[++i];
      // `list --as --json` is a missing id, not a member called "--json".
      if (value === undefined || value.startsWith('-'))
        throw new CoreError('INVALID_INPUT', '--as needs a member id, e.g. --as U01ALICE');
      globals.as = value;
    } else if (arg.startsWith('--as=')) globals.as = arg.slice(5);
    else globals.words.push(arg);
  }
  return globals;
}

function actorFor(as: string | undefined): Actor {
  if (as === undefined)
    return { id: 'local', surface: 'cli', displayName: 'local operator', extraRoles: ['admin'] };
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(as)) {
    throw new CoreError(
      'INVALID_INPUT',
      `"${as}" is not a member id. Use a Slack user id such as U01ALICE.`,
    );
  }
  return { id: as, surface: 'cli' };
}

async function defaultOpenApp(io: CliIo, json: boolean): Promise<App> {
  const config = loadConfig(io.env);
  const { openApp } = await import('../app.js');
  // The first command on a new embedded store creates the database: seconds of silence otherwise.
  const supabase = config.env.SUPABASE_URL && config.env.SUPABASE_SERVICE_ROLE_KEY;
  if (!json && io.isTTY && !config.databaseUrl && !supabase) {
    const { embeddedDatabaseExists } = await import('../store/pglite-share.js');
    if (!embeddedDatabaseExists(config.dataDir))
      io.stderr(
        `Creating the embedded database in ${config.dataDir} (first run only, a few seconds)…\n`,
      );
  }
  try {
    return await openApp(config);
  } catch (error) {
    // The stores turn what they foresee (an unreachable database, a busy folder) into a CoreError;
    // anything else here is the folder itself (a file in the way, no permission, a full disk),
    // which the user can fix once they see it.
    if (error instanceof CoreError || config.databaseUrl || supabase) throw error;
    throw new CoreError(
      'INTERNAL',
      `Cannot open the embedded database in ${config.dataDir} (SWITCHBOARD_DATA_DIR): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

export async function main(argv: string[], given: CliIo = defaultIo()): Promise<number> {
  // Error texts and driver stacks may quote a connection string or a key: whatever this command
  // prints, the configured secret values never reach the terminal.
  const secrets = secretValues(given.env);
  const io: CliIo = {
    ...given,
    stdout: (text) => given.stdout(mask(text, secrets)),
    stderr: (text) => given.stderr(mask(text, secrets)),
  };
  let json = false;
  const fail = (error: CoreError): number => {
    if (json)
      io.stdout(
        JSON.stringify({
          ok: false,
          error: {
            code: error.code,
            message: error.message,
            ...(error.vendorCode ? { vendorCode: error.vendorCode } : {}),
          },
        }) + '\n',
      );
    else io.stderr(`error: ${error.message}\n`);
    return EXIT_CODES[error.code];
  };

  let globals: Globals;
  try {
    globals = takeGlobals(argv);
  } catch (error) {
    json = argv.includes('--json');
    return fail(asCoreError(error));
  }
  json = globals.json;
  const [name, ...words] = globals.words;

  // With --json, help and the version are one JSON document too.
  const printHelp = (target: AnyCommand | OtherCommand | undefined) => {
    if (!json)
      return io.stdout(
        target === undefined ? help() : 'run' in target ? commandHelp(target) : otherHelp(target),
      );
    const describe = (c: AnyCommand) => ({
      name: c.name,
      summary: c.summary,
      effect: c.effect,
      usage: `switchboard ${c.usage}`,
      examples: c.examples.map((e) => `switchboard ${e}`),
    });
    const describeOther = (c: OtherCommand) => ({
      name: c.name,
      summary: c.summary,
      usage: c.usage.map((u) => `switchboard ${u}`),
      examples: c.examples,
      notes: c.notes,
    });
    io.stdout(
      JSON.stringify(
        {
          ok: true,
          command: 'help',
          result:
            target === undefined
              ? { commands: commands.map(describe), other: OTHER_COMMANDS.map(describeOther) }
              : 'run' in target
                ? describe(target)
                : describeOther(target),
        },
        null,
        2,
      ) + '\n',
    );
  };
  if (globals.version) {
    io.stdout(json ? JSON.stringify({ ok: true, version: VERSION }) + '\n' : `${VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === 'help') {
    const topic = words[0];
    const target = topic === undefined ? undefined : (findCommand(topic) ?? findOther(topic));
    if (topic !== undefined && target === undefined) return fail(unknownCommand(topic));
    printHelp(target);
    return 0;
  }
  const command = findCommand(name);
  // `--help` anywhere prints help and runs nothing: `serve --help` must not start a server, nor
  // `migrate --help` change a database.
  const other = findOther(name);
  if (globals.help && (command || other)) {
    printHelp(command ?? other);
    return 0;
  }
  if (name === 'migrate') {
    if (words.length > 0)
      return fail(
        new CoreError(
          'INVALID_INPUT',
          `migrate does not take "${words.join(' ')}". Usage: switchboard migrate`,
        ),
      );
    return migrateCommand(io, json);
  }
  const extra = EXTRA_COMMANDS[name];
  if (extra) {
    try {
      return await (
        await extra()
      )(io, words, { json, as: globals.as ?? io.env.SWITCHBOARD_AS });
    } catch (error) {
      return fail(asCoreError(error));
    }
  }

  let actor: Actor;
  try {
    actor = actorFor(globals.as ?? io.env.SWITCHBOARD_AS);
  } catch (error) {
    return fail(asCoreError(error));
  }

  let app: App;
  try {
    app = await (io.openApp ?? (() => defaultOpenApp(io, json)))();
  } catch (error) {
    return fail(asCoreError(error));
  }
  try {
    if (!command) {
      const error = unknownCommand(name);
      await auditRefusal(app.deps, actor, name, error);
      return fail(error);
    }
    let input: Record<string, unknown>;
    try {
      refuseShortOptions(command, words);
      input = parseWords(command, words);
    } catch (error) {
      const refusal = asCoreError(error);
      await auditRefusal(app.deps, actor, command.name, refusal);
      return fail(refusal);
    }
    // A progress bar on a terminal (stderr, never with --json); Ctrl-C stops a sync cleanly.
    const progress = !json && io.isTTY ? progressPrinter(io) : undefined;
    const interrupt = command.name === 'sync' ? interruptSignal() : undefined;
    let result: unknown;
    try {
      result = await runCommand(app.deps, command, actor, input, {
        ...(progress ? { progress: progress.update } : {}),
        ...(interrupt ? { signal: interrupt.signal } : {}),
      });
    } finally {
      progress?.finish();
      interrupt?.dispose();
    }
    if (json)
      io.stdout(JSON.stringify({ ok: true, command: command.name, result }, null, 2) + '\n');
    else io.stdout(render(command.name, result) + '\n');
    return 0;
  } catch (error) {
    const coreError = asCoreError(error);
    if (coreError.code === 'INTERNAL' && coreError.cause) {
      io.stderr(`${String((coreError.cause as Error).stack ?? coreError.cause)}\n`);
    }
    return fail(coreError);
  } finally {
    await app.close();
  }
}

/**
 * Options take two dashes. Otherwise a word such as `-l` is read as an argument: `search 415 -l 3`
 * looked for a city called "415 -l 3". A word right after a `--flag` is that flag's value.
 */
function refuseShortOptions(command: AnyCommand, words: string[]): void {
  words.forEach((word, i) => {
    const previous = words[i - 1];
    if (!/^-[A-Za-z]/.test(word) || (previous?.startsWith('--') && !previous.includes('='))) return;
    const known = flagNames(command).map((name) => `--${name}`);
    const meant = known.filter((flag) => flag.startsWith(`-${word.slice(0, 2)}`));
    throw new CoreError(
      'INVALID_INPUT',
      `${command.name} has no option ${word}: options take two dashes.${meant.length === 1 ? ` Did you mean ${meant[0]}?` : ''}${known.length ? ` Options: ${known.join(', ')}.` : ''} Usage: ${command.usage}`,
    );
  });
}

function progressPrinter(io: CliIo): ProgressBar {
  return createProgressBar({ write: io.stderr, columns: process.stderr.columns || 80 });
}

function render(name: string, result: unknown): string {
  return renderers[name]?.(result as never) ?? JSON.stringify(result, null, 2);
}

async function migrateCommand(io: CliIo, json: boolean): Promise<number> {
  try {
    const config = loadConfig(io.env);
    const { migrate } = await import('../store/migrate.js');
    let executor;
    let where: string;
    if (config.databaseUrl) {
      const { openPostgresExecutor } = await import('../store/postgres-store.js');
      executor = openPostgresExecutor({ url: config.databaseUrl, max: 1 });
      const url = new URL(config.databaseUrl);
      where = `postgres (${url.hostname}${url.pathname})`;
    } else if (config.env.SUPABASE_URL) {
      // issue 7: Supabase's REST API cannot change the schema; the database connection can.
      throw new CoreError(
        'INVALID_INPUT',
        "switchboard migrate needs DATABASE_URL: Supabase's REST API (SUPABASE_URL) cannot change the schema. Set DATABASE_URL to the project's connection string (Supabase dashboard → Connect; direct or session pooler) for this command.",
      );
    } else {
      const { openPgliteExecutor } = await import('../store/pglite-store.js');
      executor = await openPgliteExecutor({ dataDir: config.dataDir });
      where = `embedded (${config.dataDir})`;
    }
    try {
      const applied = await migrate(executor);
      if (json)
        io.stdout(
          JSON.stringify({ ok: true, command: 'migrate', result: { database: where, applied } }) +
            '\n',
        );
      else
        io.stdout(
          applied.length
            ? `Applied ${applied.join(', ')} to ${where}.\n`
            : `${where} is up to date.\n`,
        );
      return 0;
    } finally {
      await executor.close();
    }
  } catch (error) {
    const coreError = asCoreError(error);
    if (json)
      io.stdout(
        JSON.stringify({ ok: false, error: { code: coreError.code, message: coreError.message } }) +
          '\n',
      );
    else
      io.stderr(
        `error: ${coreError.message}${coreError.code === 'INTERNAL' && coreError.cause ? ` (${String(coreError.cause)})` : ''}\n`,
      );
    return EXIT_CODES[coreError.code];
  }
}
