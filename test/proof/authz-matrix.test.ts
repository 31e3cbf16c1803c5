/**
 * The authorisation matrix (issue 8): roles (member, approver, admin, MCP reader, MCP requester,
 * anonymous) × commands × surfaces (Slack through signed requests to the real receiver in
 * `serve`; MCP over HTTP with tokens from `switchboard token create`, against `serve`; MCP as
 * `switchboard mcp --as` serves it; the CLI's `main()` with `--as`). Every expected cell comes
 * from the one policy table in ./authz/policy.ts; each cell is run for real on one store (fresh
 * requests and numbers made per cell through store and core calls), and what the caller saw is
 * checked against it, and against the audit event the call wrote. The matrix is printed once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../../src/app.js';
import { SANDBOX_OWNED } from '../../src/carriers/sandbox-inventory.js';
import { loadConfig } from '../../src/config/config.js';
import { servedTools } from '../../src/mcp/server.js';
import type { Harness } from '../slack/harness.js';
import { startHarness } from '../slack/harness.js';
import type { McpDriver, Observed } from './authz/drivers.js';
import {
  AUDIT_SURFACE,
  TOKEN_OWNER,
  actorIdFor,
  callTool,
  cli,
  cliDriver,
  makeSetup,
  memberIdFor,
  mcpHttpDriver,
  mcpStdioDriver,
  slackDriver,
} from './authz/drivers.js';
import type { Cell, Command, Outcome } from './authz/policy.js';
import { COMMANDS, ROLES, SURFACES, SYMBOL, expected, renderMatrix } from './authz/policy.js';

const LEGEND = [
  `${SYMBOL.allowed} allowed · ${SYMBOL.refused} refused by policy · ${SYMBOL.absent} no such command on this surface (refused as unknown) · ${SYMBOL.unauthenticated} unauthenticated (unsigned Slack request, MCP HTTP without a token)`,
  'Roles a surface does not have are not columns: MCP reader and requester are HTTP bearer tokens; over stdio, `switchboard mcp --as <member id>` acts as a member, approver or admin; the CLI and stdio have no anonymous caller (whoever starts them can open the database).',
].join('\n');

/** What the audit trail must say for each outcome a caller saw. */
const AUDITED: Partial<Record<Outcome, { outcome: string; errorCode: string | null }>> = {
  allowed: { outcome: 'ok', errorCode: null },
  refused: { outcome: 'refused', errorCode: 'FORBIDDEN' },
  absent: { outcome: 'refused', errorCode: 'INVALID_INPUT' },
};

describe('authorisation matrix: roles × commands × surfaces', () => {
  let h: Harness;
  let mcpHttp: McpDriver | undefined;
  let mcpStdio: McpDriver | undefined;

  beforeAll(async () => {
    // Rate limits off: this proves who may do what, not how often (test/server/rate-limit.test.ts).
    h = await startHarness({ env: { SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '0' } });
  });
  afterAll(async () => {
    await mcpHttp?.close();
    await mcpStdio?.close();
    await h?.close();
  });

  it('has no MCP tool that approves or denies', () => {
    const commands = servedTools(h.deps).map((tool) => tool.command.name);
    expect(commands).toContain('buy');
    expect(commands).not.toContain('approve');
    expect(commands).not.toContain('deny');
  });

  it('allows or refuses every cell as the policy table says, on every surface', async () => {
    const tokens: Record<string, string> = {};
    for (const role of ['reader', 'requester'] as const) {
      const made = await cli(h.app, [
        'token',
        'create',
        '--name',
        `matrix-${role}`,
        '--role',
        role,
        '--for',
        TOKEN_OWNER,
        '--json',
      ]);
      expect(made.code, made.stderr).toBe(0);
      tokens[`mcp-${role}`] = (
        JSON.parse(made.stdout) as { result: { token: string } }
      ).result.token;
    }
    const setup = makeSetup(h.deps);
    const slack = slackDriver(h);
    const runCli = cliDriver(h.app);
    mcpHttp = mcpHttpDriver(h, tokens);
    mcpStdio = mcpStdioDriver(h.deps);
    const store = h.deps.store;

    const cells: Cell[] = [];
    const auditProblems: string[] = [];
    for (const surface of SURFACES) {
      for (const role of ROLES) {
        for (const command of COMMANDS) {
          const want = expected(surface, role, command);
          if (want === 'n/a') {
            cells.push({ surface, role, command, expected: want, observed: 'n/a' });
            continue;
          }
          const actorId = actorIdFor(surface, role);
          const fixture = await setup.fixture(command, memberIdFor(surface, role));
          const eventsBefore = (await store.listAudit({ limit: 1000 })).length;
          let seen: Observed;
          if (surface === 'slack') seen = await slack(role, command, fixture, actorId);
          else if (surface === 'mcp-http') seen = await mcpHttp.run(role, command, fixture);
          else if (surface === 'mcp-stdio') seen = await mcpStdio.run(role, command, fixture);
          else seen = await runCli(command, fixture, actorId);
          cells.push({ surface, role, command, expected: want, observed: seen.outcome });

          const where = `${surface} ${role} ${command}`;
          if (role === 'anonymous') {
            const after = (await store.listAudit({ limit: 1000 })).length;
            if (after !== eventsBefore)
              auditProblems.push(`${where}: an anonymous call was audited`);
            continue;
          }
          const audited = AUDITED[seen.outcome as Outcome];
          const [event] = await store.listAudit({ actor: actorId, limit: 1 });
          if (
            audited &&
            (event?.surface !== AUDIT_SURFACE[surface] ||
              event.outcome !== audited.outcome ||
              event.errorCode !== audited.errorCode)
          ) {
            auditProblems.push(
              `${where}: saw ${seen.outcome}, audit says ${event?.surface}/${event?.command}/${event?.outcome}/${event?.errorCode}`,
            );
          }
        }
      }
    }

    console.log(`Authorisation matrix (observed)\n\n${renderMatrix(cells)}\n\n${LEGEND}\n`);

    const wrong = cells
      .filter((cell) => cell.observed !== cell.expected)
      .map(
        (c) => `${c.surface} × ${c.role} × ${c.command}: expected ${c.expected}, saw ${c.observed}`,
      );
    expect(wrong).toEqual([]);
    expect(auditProblems).toEqual([]);
    // Every role × command × surface is a cell; the ones a surface has were all run.
    expect(cells).toHaveLength(SURFACES.length * ROLES.length * COMMANDS.length);
    const run = cells.filter((c) => c.expected !== 'n/a');
    expect(run.length).toBe(13 * COMMANDS.length);
    for (const outcome of ['allowed', 'refused', 'absent', 'unauthenticated'] as const)
      expect(run.some((c) => c.observed === outcome)).toBe(true);
  }, 600_000);
});

/**
 * The built `switchboard mcp --as <member id>` over real stdio pipes, one process per role on one
 * embedded data folder with the policy from the environment: the same cells as the in-memory
 * column for every command whose fixture needs no other member's number ("release other", "link
 * other" and "unclaim other" are left to the in-memory column, which runs them on the shared
 * store). "Release
 * own via token" runs here too, on a token and a number seeded in the children's data folder.
 */
describe('authorisation matrix: MCP over real stdio (built bin)', () => {
  const BIN = join(import.meta.dirname, '../../bin/switchboard.js');
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-authz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('agrees with the policy table for member, approver and admin', async () => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      SWITCHBOARD_DATA_DIR: join(dir, 'data'),
      SWITCHBOARD_APPROVERS: 'U01BOB',
      SWITCHBOARD_ADMINS: 'U01ADMIN',
      LOG_LEVEL: 'warn',
    };
    // In order: a claimed number is given back to the pool and claimed again, then linked,
    // unlinked and released by its holder.
    const sequence: Command[] = [
      'search',
      'buy',
      'approve',
      'approve own',
      'approve own via token',
      'deny',
      'withdraw own',
      'claim',
      'unclaim own',
      'claim',
      'link own',
      'unlink own',
      'release own',
      'release own via token',
      'list all',
      'sync',
      'provision',
      'audit',
      'token create',
    ];
    const wrong: string[] = [];
    const roles = ['member', 'approver', 'admin'] as const;

    // "Release own via token": for each role, a requester token its member owns and a pool number
    // claimed through that token (so the member's), made by the same setup as the in-memory
    // columns (makeSetup: the store's createApiToken, the claim command as the token) on the app
    // `switchboard` itself opens from this environment: the children's data folder and sandbox
    // carrier state. Seeded before any child starts, which is simpler and steadier than joining a
    // running child as a pglite-share socket client: nobody else holds the folder yet, and closing
    // the app lets go of it at once (no clients to linger for) before the first child opens it.
    const viaToken = {} as Record<(typeof roles)[number], string>;
    const seeding = await openApp(loadConfig(env));
    try {
      const sandbox = seeding.deps.carriers.sandbox;
      if (!sandbox) throw new Error('the stdio children would have no sandbox carrier');
      const setup = makeSetup({ ...seeding.deps, sandbox });
      for (const role of roles) {
        const fixture = await setup.fixture(
          'release own via token',
          memberIdFor('mcp-stdio', role),
        );
        viaToken[role] = fixture.number as string;
      }
    } finally {
      await seeding.close();
    }

    for (const [i, role] of roles.entries()) {
      const number = SANDBOX_OWNED[i] as string;
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', '--as', actorIdFor('mcp-stdio', role)],
        env,
        cwd: dir,
        stderr: 'pipe',
      });
      const client = new Client({ name: 'authz-matrix-stdio', version: '1.0.0' });
      await client.connect(transport);
      try {
        for (const command of sequence) {
          const fixture = {
            number: command === 'release own via token' ? viaToken[role] : number,
            requestId: 'R-NOTREAL1',
            target: command === 'provision' ? '+14155550100' : '212',
            name: 'stdio-token',
          };
          const seen = await callTool(client, command, fixture);
          const want = expected('mcp-stdio', role, command);
          if (seen.outcome !== want)
            wrong.push(`stdio × ${role} × ${command}: expected ${want}, saw ${seen.outcome}`);
        }
      } finally {
        await client.close();
      }
    }

    // What the children did to the seeded numbers, read back from their data folder: released
    // where the policy allows it, still the member's where it refuses, audited as the member.
    const after = await openApp(loadConfig(env));
    try {
      for (const role of roles) {
        const member = memberIdFor('mcp-stdio', role);
        const want = expected('mcp-stdio', role, 'release own via token');
        const number = await after.deps.store.getNumber(viaToken[role]);
        const asExpected =
          want === 'allowed'
            ? number?.status === 'released'
            : number?.status === 'assigned' && number.owner === member;
        if (!asExpected)
          wrong.push(
            `stdio × ${role} × release own via token: expected ${want}, the number is ${number?.status} (${number?.owner})`,
          );
        // (Later cells may name the same number, e.g. provision's target: pick the release.)
        const events = await after.deps.store.listAudit({ target: viaToken[role], limit: 100 });
        const release = events.filter((event) => event.command === 'release');
        const audited = want === 'allowed' ? 'ok' : 'refused';
        if (
          release.length !== 1 ||
          release[0]?.actor !== member ||
          release[0].surface !== 'mcp' ||
          release[0].outcome !== audited
        )
          wrong.push(
            `stdio × ${role} × release own via token: audited releases ${JSON.stringify(release.map((e) => [e.actor, e.surface, e.outcome]))}`,
          );
      }
    } finally {
      await after.close();
    }
    expect(wrong).toEqual([]);
  }, 240_000);
});
