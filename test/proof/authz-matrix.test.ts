/**
 * The authorisation matrix (issue 8): roles (member, approver, admin, MCP reader, MCP requester,
 * anonymous) × commands × surfaces (Slack through signed requests to the real receiver in
 * `serve`; MCP over HTTP with tokens from `switchboard token create`, against `serve`; MCP as
 * `switchboard mcp --as` serves it; the CLI's `main()` with `--as`). Every expected cell comes
 * from the one policy table in ./authz/policy.ts; each cell is run for real on one store (fresh
 * requests and numbers made per cell through store and core calls), and what the caller saw is
 * checked against it, and against the audit event the call wrote. The matrix is printed once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedTools } from '../../src/mcp/server.js';
import type { Harness } from '../slack/harness.js';
import { startHarness } from '../slack/harness.js';
import type { McpDriver, Observed } from './authz/drivers.js';
import {
  AUDIT_SURFACE,
  actorIdFor,
  cli,
  cliDriver,
  makeSetup,
  mcpHttpDriver,
  mcpStdioDriver,
  slackDriver,
} from './authz/drivers.js';
import type { Cell, Outcome } from './authz/policy.js';
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
          const fixture = await setup.fixture(command, actorId);
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
