/**
 * `switchboard token create|list|revoke`: bearer tokens for MCP over HTTP, for admins. Each action
 * runs as a command through `runCommand`, so it is audited like any other (the token name and
 * role, never the token).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { App } from '../app.js';
import type { ExtraCommand } from '../cli/extra-command.js';
import type { CliIo } from '../cli/main.js';
import { EXIT_CODES } from '../cli/main.js';
import { defineCommand, runCommand } from '../core/command.js';
import type { CommandContext } from '../core/command.js';
import { CoreError, asCoreError } from '../core/errors.js';
import { assertAdmin } from '../core/policy.js';
import type { ApiToken } from '../core/ports.js';
import type { Actor } from '../core/types.js';
import { joinSentences } from '../core/sentences.js';
import { loadConfig } from '../config/config.js';
import { table } from '../cli/table.js';
import { generateToken, hashToken } from './tokens.js';

const USAGE =
  'Usage: switchboard token create --name <name> --role reader|requester [--for <member id>] | token list | token revoke <name>';

const MemberId = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'give a member id: a Slack user id such as U01ALICE')
  .describe(
    'The member the token acts for (a Slack user id): numbers it buys or claims are theirs and count against their cap, it may release or link only their numbers, and they cannot approve purchases it requests. Default: whoever makes the token',
  );

/**
 * A token's owner must be a member Switchboard knows: one in its members table (they have
 * requested or claimed a number) or a configured approver or admin. A mistyped id would otherwise
 * leave the token owned by nobody real, and its purchases approvable by the person meant.
 */
async function assertKnownMember(ctx: CommandContext, id: string): Promise<void> {
  const { policy, store } = ctx.deps;
  if (id === ctx.actor.id || policy.approvers.includes(id) || policy.admins.includes(id)) return;
  if (await store.getMember(id)) return;
  throw new CoreError(
    'NOT_FOUND',
    `No member ${id} is known to Switchboard, so a token cannot be made for them. Check the id: a Slack member id such as U01ALICE (in Slack: their profile, ⋮, Copy member ID). A member is known once they have requested or claimed a number, or when listed in SWITCHBOARD_APPROVERS or SWITCHBOARD_ADMINS. Or leave out --for to own the token yourself.`,
  );
}

const TokenName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'give a name of letters, digits, ".", "_" or "-" (up to 64), e.g. claude-desktop',
  )
  .describe('A name for the token, e.g. claude-desktop; it shows in the audit trail as mcp:<name>');

export const tokenCreate = defineCommand({
  name: 'token create',
  adminOnly: true,
  summary: 'Make a bearer token for MCP over HTTP; it is shown once',
  effect: 'write',
  usage: 'token create --name <name> --role reader|requester [--for <member id>]',
  examples: [
    'token create --name claude-desktop --role requester',
    'token create --name alice-claude --role requester --for U01ALICE',
  ],
  args: [],
  input: z.object({
    name: TokenName,
    role: z
      .enum(['reader', 'requester'])
      .describe(
        'reader: read tools only; requester: may also request purchases, claim, link, release',
      ),
    owner: MemberId.optional(),
  }),
  async run(ctx, input): Promise<{ token: ApiToken; secret: string }> {
    const owner = input.owner ?? ctx.actor.id;
    ctx.note({ target: `token ${input.name}`, detail: { role: input.role, owner } });
    assertAdmin(ctx.deps.policy, ctx.actor, 'make MCP tokens');
    await assertKnownMember(ctx, owner);
    const secret = generateToken();
    const outcome = await ctx.deps.store.createApiToken({
      name: input.name,
      role: input.role,
      tokenHash: hashToken(secret),
      createdBy: ctx.actor.id,
      owner,
      now: ctx.deps.clock.now(),
    });
    if (outcome.status === 'name-taken') {
      throw new CoreError(
        'CONFLICT',
        `A token named ${input.name} already exists${outcome.token.revokedAt ? ' (revoked)' : ''}. Pick another name, e.g. ${input.name}-2.`,
      );
    }
    return { token: outcome.token, secret };
  },
});

export const tokenList = defineCommand({
  name: 'token list',
  adminOnly: true,
  summary: 'List MCP tokens (names, roles and owners; never the tokens)',
  effect: 'read',
  usage: 'token list',
  examples: ['token list'],
  args: [],
  input: z.object({}),
  async run(ctx): Promise<{ tokens: ApiToken[] }> {
    assertAdmin(ctx.deps.policy, ctx.actor, 'list MCP tokens');
    return { tokens: await ctx.deps.store.listApiTokens() };
  },
});

export const tokenRevoke = defineCommand({
  name: 'token revoke',
  adminOnly: true,
  summary: 'Revoke an MCP token; clients using it get 401 from the next request',
  effect: 'write',
  usage: 'token revoke <name>',
  examples: ['token revoke claude-desktop'],
  args: [],
  input: z.object({ name: TokenName }),
  async run(ctx, input): Promise<{ token: ApiToken; already: boolean }> {
    ctx.note({ target: `token ${input.name}` });
    assertAdmin(ctx.deps.policy, ctx.actor, 'revoke MCP tokens');
    const outcome = await ctx.deps.store.revokeApiToken(input.name, ctx.deps.clock.now());
    if (outcome.status === 'not-found')
      throw new CoreError('NOT_FOUND', `No token named ${input.name}. See them with: token list`);
    return { token: outcome.token, already: outcome.status === 'already-revoked' };
  },
});

function actorFor(as: string | undefined): Actor {
  if (as === undefined)
    return { id: 'local', surface: 'cli', displayName: 'local operator', extraRoles: ['admin'] };
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(as))
    throw new CoreError(
      'INVALID_INPUT',
      `"${as}" is not a member id. Use a Slack user id such as U01ALICE.`,
    );
  return { id: as, surface: 'cli' };
}

const when = (date: Date | null) =>
  date ? `${date.toISOString().slice(0, 16).replace('T', ' ')}Z` : '';

function renderList(tokens: ApiToken[]): string {
  if (tokens.length === 0)
    return 'No tokens yet. Make one with: switchboard token create --name <name> --role reader|requester [--for <member id>]\n';
  return (
    table(
      ['NAME', 'ROLE', 'OWNER', 'CREATED', 'BY', 'LAST USED', 'STATUS'],
      tokens.map((t) => [
        t.name,
        t.role,
        t.owner,
        when(t.createdAt),
        t.createdBy,
        when(t.lastUsedAt) || 'never',
        t.revokedAt ? `revoked ${when(t.revokedAt)}` : 'active',
      ]),
    ) + '\n'
  );
}

export const tokenCommand: ExtraCommand = async (io, words, options) => {
  const fail = (error: CoreError): number => {
    if (options.json)
      io.stdout(
        JSON.stringify({ ok: false, error: { code: error.code, message: error.message } }) + '\n',
      );
    else io.stderr(`error: ${error.message}\n`);
    return EXIT_CODES[error.code];
  };
  const [action, ...rest] = words;
  let command;
  let input: Record<string, unknown>;
  let actor: Actor;
  try {
    actor = actorFor(options.as);
    if (action === 'create') {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, role: { type: 'string' }, for: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length > 0 && values.name === undefined) values.name = positionals[0];
      if (values.name === undefined || values.role === undefined)
        throw new CoreError('INVALID_INPUT', `token create needs --name and --role. ${USAGE}`);
      command = tokenCreate;
      input = {
        name: values.name,
        role: values.role,
        ...(values.for !== undefined ? { owner: values.for } : {}),
      };
    } else if (action === 'list' && rest.length === 0) {
      command = tokenList;
      input = {};
    } else if (action === 'revoke' && rest.length === 1) {
      command = tokenRevoke;
      input = { name: rest[0] };
    } else {
      const what =
        action === undefined
          ? 'token needs a subcommand: create, list or revoke.'
          : action === 'revoke' && rest.length === 0
            ? "token revoke needs the token's name."
            : action === 'list' || action === 'revoke'
              ? `token ${action} does not take "${rest.slice(action === 'revoke' ? 1 : 0).join(' ')}".`
              : `token has no subcommand "${action}": it takes create, list or revoke.`;
      throw new CoreError('INVALID_INPUT', `${what} ${USAGE}`.trim());
    }
  } catch (error) {
    const coreError =
      error instanceof CoreError
        ? error
        : new CoreError('INVALID_INPUT', joinSentences((error as Error).message, USAGE));
    return fail(coreError);
  }

  let app: App;
  try {
    app = await (io.openApp ?? (await defaultOpenApp(io)))();
  } catch (error) {
    return fail(asCoreError(error));
  }
  try {
    const result = (await runCommand(app.deps, command as never, actor, input)) as Record<
      string,
      unknown
    >;
    print(io, options.json, command.name, result);
    return 0;
  } catch (error) {
    return fail(asCoreError(error));
  } finally {
    await app.close();
  }
};

async function defaultOpenApp(io: CliIo): Promise<() => Promise<App>> {
  const { openApp } = await import('../app.js');
  return () => openApp(loadConfig(io.env));
}

function print(io: CliIo, json: boolean, name: string, result: Record<string, unknown>): void {
  if (name === 'token create') {
    const { token, secret } = result as { token: ApiToken; secret: string };
    if (json) {
      io.stdout(
        JSON.stringify({
          ok: true,
          command: name,
          result: { name: token.name, role: token.role, owner: token.owner, token: secret },
        }) + '\n',
      );
      return;
    }
    io.stdout(
      [
        `Created token ${token.name} (${token.role}) for ${token.owner}. Copy it now: it is shown only this once, and only its hash is stored.`,
        ...(token.role === 'requester'
          ? [
              `Purchases requested through it are made on behalf of ${token.owner}, who cannot approve them; numbers it buys or claims are ${token.owner}'s and count against their cap.${token.owner === token.createdBy ? " For someone else's assistant, make the token with --for <their member id>." : ''}`,
            ]
          : []),
        '',
        `  ${secret}`,
        '',
        `Clients send it as: Authorization: Bearer ${secret.slice(0, 8)}…`,
        `Revoke it with: switchboard token revoke ${token.name}`,
        '',
      ].join('\n'),
    );
    return;
  }
  if (json) {
    io.stdout(JSON.stringify({ ok: true, command: name, result }, null, 2) + '\n');
    return;
  }
  if (name === 'token list') {
    io.stdout(renderList((result as { tokens: ApiToken[] }).tokens));
    return;
  }
  const { token, already } = result as { token: ApiToken; already: boolean };
  io.stdout(
    already
      ? `Token ${token.name} was already revoked.\n`
      : `Revoked token ${token.name}: clients using it get 401 from their next request.\n`,
  );
}
