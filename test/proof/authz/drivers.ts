/**
 * The authorisation matrix's per-cell setup (store and core calls on the one test store) and one
 * driver per surface: the real Slack receiver in `serve` (signed requests), MCP over HTTP with real
 * tokens against `serve`, MCP as `switchboard mcp --as` builds it (in memory), and the CLI's
 * `main()` in process. Each driver reports what the caller saw: allowed, refused, absent (no such
 * command here) or unauthenticated, or `error: …` for anything else.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { App } from '../../../src/app.js';
import { runCommand } from '../../../src/core/command.js';
import type { BuyResult } from '../../../src/core/commands/buy.js';
import { buy, claim, link } from '../../../src/core/commands/index.js';
import type { Carrier, Deps } from '../../../src/core/ports.js';
import type { Actor } from '../../../src/core/types.js';
import { stdioActor } from '../../../src/mcp/mcp-cli.js';
import { tokenActor } from '../../../src/mcp/tokens.js';
import { ACTIONS } from '../../../src/slack/registry.js';
import { runCli } from '../../helpers/cli-in-process.js';
import type { TestDeps } from '../../helpers/deps.js';
import { connectInMemory, textOf as mcpText } from '../../mcp/helpers.js';
import type { Connected } from '../../mcp/helpers.js';
import { actionBody, eventually, postSigned, slashBody, textOf } from '../../slack/fake-slack.js';
import type { Harness } from '../../slack/harness.js';
import type { Command, Outcome, Role, Surface } from './policy.js';

export const AGENT = 'retell:agent_sandbox_support';
/** Owner of the other member's requests and numbers. */
export const OTHER = 'U01CAROL';
const US_AREA_CODES = ['415', '212', '312', '213', '512', '206', '305', '617', '303', '404'];

/**
 * The member the matrix's MCP HTTP tokens act for: an admin, so that every cell a token is refused
 * (sync, another member's number) shows the owner's roles do not pass to the token.
 */
export const TOKEN_OWNER = 'U01ADMIN';

/** Who each role is on each surface (member ids as in test/helpers/deps.ts's default policy). */
export function actorIdFor(surface: Surface, role: Role): string {
  if (surface === 'mcp-http') return `mcp:matrix-${role.replace('mcp-', '')}`;
  return { member: 'U01ALICE', approver: 'U01BOB', admin: 'U01ADMIN' }[role as string] ?? role;
}

/** The member each role acts for: itself, or for an MCP token its owner (core/policy.ts memberOf). */
export function memberIdFor(surface: Surface, role: Role): string {
  return surface === 'mcp-http' ? TOKEN_OWNER : actorIdFor(surface, role);
}

export const AUDIT_SURFACE: Record<Surface, Actor['surface']> = {
  slack: 'slack',
  'mcp-http': 'mcp',
  'mcp-stdio': 'mcp',
  cli: 'cli',
};

/** What a cell acts on, made fresh for it. */
export interface Fixture {
  requestId?: string;
  number?: string;
  target?: string;
  name?: string;
}

export interface Setup {
  /** `memberId`: whose requests and numbers are the cell's "own" (memberIdFor). */
  fixture(command: Command, memberId: string): Promise<Fixture>;
}

/**
 * `deps`: the test store's (TestDeps), or an app's that `openApp` built, as for the built bin's
 * data folder; `sandbox` is the carrier pool numbers are bought from.
 */
export function makeSetup(deps: Deps & { sandbox: Carrier }): Setup {
  let sequence = 0;
  const nextCode = () => US_AREA_CODES[sequence++ % US_AREA_CODES.length] as string;
  const as = (id: string): Actor => ({ id, surface: 'cli' });

  async function pendingRequest(requester: string | Actor): Promise<string> {
    const actor = typeof requester === 'string' ? as(requester) : requester;
    const result = (await runCommand(deps, buy, actor, {
      target: nextCode(),
    })) as BuyResult;
    if (result.request.status !== 'pending') throw new Error('setup: request not pending');
    return result.request.id;
  }

  /** An MCP token `owner` owns, acting as MCP over HTTP makes it act. */
  async function ownedToken(owner: string): Promise<Actor> {
    const made = await deps.store.createApiToken({
      name: `matrix-owned-${++sequence}`,
      role: 'requester',
      tokenHash: sequence.toString(16).padStart(64, '0'),
      createdBy: 'local',
      owner,
      now: new Date(),
    });
    if (made.status !== 'created') throw new Error(`setup: token ${made.status}`);
    return tokenActor(made.token);
  }

  /** A pending request made through an MCP token `owner` owns. */
  async function tokenRequest(owner: string): Promise<string> {
    return pendingRequest(await ownedToken(owner));
  }

  /** A pool number claimed through an MCP token `owner` owns: the owner's. */
  async function tokenClaimed(owner: string): Promise<string> {
    const e164 = await poolNumber();
    const claimed = await runCommand(deps, claim, await ownedToken(owner), { number: e164 });
    if (claimed.number.owner !== owner)
      throw new Error(`setup: ${e164} claimed through a token is ${claimed.number.owner}'s`);
    return e164;
  }

  /** A number in the sandbox account and in our pool, nobody's. */
  async function poolNumber(): Promise<string> {
    const [offer] = await deps.sandbox.search({
      country: 'US',
      numberType: 'local',
      areaCode: nextCode(),
      features: [],
      limit: 1,
    });
    if (!offer) throw new Error('setup: the sandbox has nothing left to sell');
    const ordered = await deps.sandbox.order(offer.e164, { reference: `matrix-${sequence}` });
    if (ordered.status !== 'bought') throw new Error(`setup: order ${ordered.status}`);
    const row = await deps.sandbox.lookupOwned?.(offer.e164);
    if (!row) throw new Error('setup: the sandbox does not list what it sold');
    await deps.store.importNumber('sandbox', row, new Date());
    return offer.e164;
  }

  async function ownedNumber(owner: string): Promise<string> {
    const e164 = await poolNumber();
    const claimed = await deps.store.claimNumber(e164, owner, null);
    if (claimed.status !== 'claimed') throw new Error(`setup: claim ${claimed.status}`);
    return e164;
  }

  return {
    async fixture(command, memberId) {
      switch (command) {
        case 'search':
        case 'list all':
        case 'sync':
        case 'audit':
          return {};
        case 'buy':
          return { target: nextCode() };
        case 'provision':
          return { target: `+1${nextCode()}5550100` };
        case 'approve':
        case 'deny':
          return { requestId: await pendingRequest(OTHER) };
        case 'approve own':
        case 'withdraw own':
          return { requestId: await pendingRequest(memberId) };
        case 'approve own via token':
          return { requestId: await tokenRequest(memberId) };
        case 'claim':
          return { number: await poolNumber() };
        case 'unclaim own':
        case 'release own':
        case 'link own':
          return { number: await ownedNumber(memberId) };
        case 'release own via token':
          return { number: await tokenClaimed(memberId) };
        case 'unclaim other':
        case 'release other':
        case 'link other':
          return { number: await ownedNumber(OTHER) };
        case 'unlink own': {
          const number = await ownedNumber(memberId);
          await runCommand(deps, link, as(memberId), { number, agent: AGENT });
          return { number };
        }
        case 'token create':
          return { name: `matrix-token-${++sequence}` };
      }
    },
  };
}

export interface Observed {
  outcome: Outcome | `error: ${string}`;
}

const clipped = (text: string) => text.replace(/\s+/g, ' ').slice(0, 300);

// ------------------------------------------------------------------------------------------------
// Slack: signed requests to the real receiver in serve

function slackText(command: Command, fx: Fixture): string {
  switch (command) {
    case 'search':
      return 'search 415';
    case 'buy':
      return `buy ${fx.target}`;
    case 'approve':
    case 'approve own':
    case 'approve own via token':
      return `approve ${fx.requestId}`;
    case 'deny':
    case 'withdraw own':
      return `deny ${fx.requestId} not needed`;
    case 'claim':
      return `claim ${fx.number}`;
    case 'unclaim own':
    case 'unclaim other':
      return `unclaim ${fx.number}`;
    case 'release own':
    case 'release own via token':
    case 'release other':
      return `release ${fx.number}`;
    case 'link own':
    case 'link other':
      return `link ${fx.number} ${AGENT}`;
    case 'unlink own':
      return `unlink ${fx.number}`;
    case 'list all':
      return 'list all';
    case 'sync':
      return 'sync';
    case 'provision':
      return `provision ${fx.target} ${AGENT}`;
    case 'audit':
      return 'audit';
    case 'token create':
      return `token create --name ${fx.name} --role reader`;
  }
}

export function slackDriver(h: Harness) {
  let sequence = 0;
  return async (role: Role, command: Command, fx: Fixture, user: string): Promise<Observed> => {
    const id = `matrix-${++sequence}`;
    if (role === 'anonymous') {
      const res = await fetch(`${h.server.url}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: slashBody(h.fake, 'U01ALICE', slackText(command, fx), id),
      });
      await res.text();
      return { outcome: res.status === 401 ? 'unauthenticated' : `error: HTTP ${res.status}` };
    }
    // Typed, release only asks to confirm; the confirm button runs it, so click that.
    const body =
      command === 'release own' ||
      command === 'release own via token' ||
      command === 'release other'
        ? actionBody(
            h.fake,
            user,
            { action_id: ACTIONS.release, value: JSON.stringify({ number: fx.number }) },
            { id },
          )
        : slashBody(h.fake, user, slackText(command, fx), id);
    const res = await postSigned(h.server.url, body);
    if (res.status !== 200) return { outcome: `error: HTTP ${res.status}` };
    await res.text();
    // Sync first says it started, then replaces that with the outcome.
    const reply = await eventually(
      () =>
        h.fake.responses
          .filter((r) => r.id === id)
          .map((r) => `${textOf(r.body.text)}\n${textOf(r.body.blocks)}`)
          .find((text) => !text.includes('Syncing the carrier accounts')),
      `the answer to ${command}`,
    );
    if (reply.includes('is not something I know')) return { outcome: 'absent' };
    if (reply.includes(':lock:')) return { outcome: 'refused' };
    if (/:warning:|:x:/.test(reply)) return { outcome: `error: ${clipped(reply)}` };
    return { outcome: 'allowed' };
  };
}

// ------------------------------------------------------------------------------------------------
// MCP: the same tool calls over HTTP (serve, tokens) and as `switchboard mcp --as` serves them

function toolCall(command: Command, fx: Fixture): [string, Record<string, unknown>] {
  switch (command) {
    case 'search':
      return ['search_numbers', { query: '415' }];
    case 'buy':
      return ['request_purchase', { target: fx.target }];
    case 'approve':
    case 'approve own':
    case 'approve own via token':
      return ['approve_request', { id: fx.requestId }];
    case 'deny':
    case 'withdraw own':
      return ['deny_request', { id: fx.requestId, reason: 'not needed' }];
    case 'claim':
      return ['claim_number', { number: fx.number }];
    case 'unclaim own':
    case 'unclaim other':
      return ['unclaim_number', { number: fx.number }];
    case 'release own':
    case 'release own via token':
    case 'release other':
      return ['release_number', { number: fx.number }];
    case 'link own':
    case 'link other':
      return ['link_number', { number: fx.number, agent: AGENT }];
    case 'unlink own':
      return ['unlink_number', { number: fx.number }];
    case 'list all':
      return ['list_numbers', { scope: 'all' }];
    case 'sync':
      return ['sync_numbers', {}];
    case 'provision':
      return ['provision_number', { target: fx.target, agent: AGENT }];
    case 'audit':
      return ['get_audit_log', {}];
    case 'token create':
      return ['create_token', { name: fx.name, role: 'reader' }];
  }
}

export async function callTool(client: Client, command: Command, fx: Fixture): Promise<Observed> {
  const [name, args] = toolCall(command, fx);
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (!result.isError) return { outcome: 'allowed' };
  const text = mcpText(result);
  if (text.startsWith('FORBIDDEN:')) return { outcome: 'refused' };
  if (text.includes('There is no tool')) return { outcome: 'absent' };
  return { outcome: `error: ${clipped(text)}` };
}

export interface McpDriver {
  run(role: Role, command: Command, fx: Fixture): Promise<Observed>;
  close(): Promise<void>;
}

/** MCP over HTTP against serve, one SDK client per token (made with `switchboard token create`). */
export function mcpHttpDriver(h: Harness, tokens: Partial<Record<Role, string>>): McpDriver {
  const clients = new Map<Role, Client>();
  async function clientFor(role: Role): Promise<Client> {
    let client = clients.get(role);
    if (!client) {
      client = new Client({ name: 'authz-matrix', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${h.server.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${tokens[role]}` } },
        }),
      );
      clients.set(role, client);
    }
    return client;
  }
  return {
    async run(role, command, fx) {
      if (role === 'anonymous') {
        const [name, args] = toolCall(command, fx);
        const res = await fetch(`${h.server.url}/mcp`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'tools/call',
            params: { name, arguments: args },
          }),
        });
        await res.text();
        return { outcome: res.status === 401 ? 'unauthenticated' : `error: HTTP ${res.status}` };
      }
      return callTool(await clientFor(role), command, fx);
    },
    async close() {
      for (const client of clients.values()) await client.close().catch(() => undefined);
    },
  };
}

/**
 * `switchboard mcp --as <member id>` over stdio: the same identity (stdioActor) and the same
 * createMcpServer, joined to the SDK client in memory instead of through a child process's pipes
 * (the transport itself is covered by test/mcp/mcp-bin.test.ts).
 */
export function mcpStdioDriver(deps: TestDeps): McpDriver {
  const sessions = new Map<string, Connected>();
  return {
    async run(role, command, fx) {
      const id = actorIdFor('mcp-stdio', role);
      let session = sessions.get(id);
      if (!session) {
        session = await connectInMemory(deps, { actor: stdioActor(id), role: 'requester' });
        sessions.set(id, session);
      }
      return callTool(session.client, command, fx);
    },
    async close() {
      for (const session of sessions.values()) await session.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// CLI: main() in process, `--as <member id>`, on the same app

function cliArgs(command: Command, fx: Fixture): string[] {
  switch (command) {
    case 'search':
      return ['search', '415'];
    case 'buy':
      return ['buy', fx.target as string];
    case 'approve':
    case 'approve own':
    case 'approve own via token':
      return ['approve', fx.requestId as string];
    case 'deny':
    case 'withdraw own':
      return ['deny', fx.requestId as string, 'not', 'needed'];
    case 'claim':
      return ['claim', fx.number as string];
    case 'unclaim own':
    case 'unclaim other':
      return ['unclaim', fx.number as string];
    case 'release own':
    case 'release own via token':
    case 'release other':
      return ['release', fx.number as string];
    case 'link own':
    case 'link other':
      return ['link', fx.number as string, AGENT];
    case 'unlink own':
      return ['unlink', fx.number as string];
    case 'list all':
      return ['list', 'all'];
    case 'sync':
      return ['sync'];
    case 'provision':
      return ['provision', fx.target as string, AGENT];
    case 'audit':
      return ['audit'];
    case 'token create':
      return ['token', 'create', '--name', fx.name as string, '--role', 'reader'];
  }
}

/** Runs the CLI in process on `app` (left open: main closes the app it is given). */
export const cli = runCli;

export function cliDriver(app: App) {
  return async (command: Command, fx: Fixture, user: string): Promise<Observed> => {
    const { code, stderr } = await cli(app, [...cliArgs(command, fx), '--as', user]);
    if (code === 0) return { outcome: 'allowed' };
    if (code === 3) return { outcome: 'refused' };
    if (code === 2 && stderr.includes('Unknown command')) return { outcome: 'absent' };
    return { outcome: `error: exit ${code}: ${clipped(stderr)}` };
  };
}
