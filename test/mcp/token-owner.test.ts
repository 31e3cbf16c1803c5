/**
 * Token owners end to end, in process: `switchboard token create --for` and `token list` through
 * the CLI's main(), the token used over MCP Streamable HTTP (createMcpHttpHandler, as `serve`
 * mounts it), and the approver who owns the token refused when approving through the CLI. Then
 * the token acting for its owner (migration 015): what it claims or buys is the owner's,
 * list_numbers mine shows the owner's numbers, and it releases theirs but not another member's.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { runCli } from '../helpers/cli-in-process.js';
import { makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { startMcpHttpServer } from '../helpers/mcp-http-server.js';
import type { McpHttpServer } from '../helpers/mcp-http-server.js';
import { freshPglite } from '../helpers/stores.js';
import { textOf } from './helpers.js';

let store: SqlStore;
let deps: TestDeps;
let app: App;
let mcp: McpHttpServer;

beforeEach(async () => {
  store = await freshPglite();
  deps = makeDeps(store, { policy: { approvers: ['U01BOB', 'U01DAVE'] } });
  app = { config: loadConfig({}), deps, storeLabel: 'test', close: async () => {} } as App;
  mcp = await startMcpHttpServer(app);
});
afterEach(async () => {
  await mcp.close();
  await store.close();
});

/** The CLI's main() in process on the test app. */
const cli = (...argv: string[]) => runCli(app, argv);

/** `token create` arguments for token `name` with `role`, acting for `owner`. */
const tokenFor = (name: string, role: string, owner: string) => [
  '--name',
  name,
  '--role',
  role,
  '--for',
  owner,
];

async function createToken(...args: string[]): Promise<string> {
  const made = await cli('token', 'create', ...args, '--json');
  expect(made.code, made.stderr + made.stdout).toBe(0);
  return (JSON.parse(made.stdout) as { result: { token: string } }).result.token;
}

const connect = (token: string): Promise<Client> => mcp.connect(token, 'token-owner-test');

describe('token create --for, and token list', () => {
  it('a wrong subcommand or word count says which, then the usage', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'token needs a subcommand: create, list or revoke.'],
      [['foo'], 'token has no subcommand "foo": it takes create, list or revoke.'],
      [['revoke'], "token revoke needs the token's name."],
      [['revoke', 'a', 'b'], 'token revoke does not take "b".'],
      [['list', 'all'], 'token list does not take "all".'],
    ];
    for (const [words, said] of cases) {
      const out = await cli('token', ...words);
      expect(out.code, words.join(' ')).toBe(2);
      expect(out.stderr).toContain(`error: ${said} Usage: switchboard token create`);
    }
    // Node's own parse error, ended with one full stop before the usage (its wording varies).
    const unknown = await cli('token', 'create', '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^error: Unknown option '--bogus'[^\n]*[^.]\. Usage: switchboard token create/,
    );
  });

  it('the owner defaults to the maker; --for names another member; list shows the owner', async () => {
    const text = await cli('token', 'create', '--name', 'ops', '--role', 'requester');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Created token ops (requester) for local.');
    expect(text.stdout).toContain('made on behalf of local, who cannot approve them');
    expect(text.stdout).toContain('--for <their member id>');

    const made = await cli(
      'token',
      'create',
      ...tokenFor('bob-claude', 'requester', 'U01BOB'),
      '--as',
      'U01ADMIN',
      '--json',
    );
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).result).toMatchObject({ name: 'bob-claude', owner: 'U01BOB' });

    const list = await cli('token', 'list');
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ROLE\s+OWNER\s+CREATED\s+BY\s+LAST USED\s+STATUS$/);
    // A rule under the header, as in every other table.
    expect(lines[1]).toMatch(/^─+( {2}─+){6}$/);
    expect(lines[2]).toMatch(/^ops\s+requester\s+local\s+\S+ \S+\s+local\s+never\s+active$/);
    expect(lines[3]).toMatch(
      /^bob-claude\s+requester\s+U01BOB\s+\S+ \S+\s+U01ADMIN\s+never\s+active$/,
    );
    const json = JSON.parse((await cli('token', 'list', '--json')).stdout) as {
      result: { tokens: Array<{ name: string; owner: string; createdBy: string }> };
    };
    expect(json.result.tokens.map((t) => [t.name, t.owner, t.createdBy])).toEqual([
      ['ops', 'local', 'local'],
      ['bob-claude', 'U01BOB', 'U01ADMIN'],
    ]);
    const [event] = await store.listAudit({ actor: 'U01ADMIN', limit: 1 });
    expect(event).toMatchObject({ command: 'token create', outcome: 'ok' });
    expect(event?.detail).toMatchObject({ role: 'requester', owner: 'U01BOB' });
  });

  it('--for an unknown member is refused with the fix; a malformed id is bad input; nothing is made', async () => {
    const unknown = await cli('token', 'create', ...tokenFor('typo', 'requester', 'U01BOBB'));
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('No member U01BOBB is known to Switchboard');
    expect(unknown.stderr).toContain('Copy member ID');
    expect(unknown.stderr).toContain('leave out --for');

    const malformed = await cli('token', 'create', ...tokenFor('typo', 'requester', 'bob smith'));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/member id/);
    expect(await store.listApiTokens()).toEqual([]);

    // Known: a configured approver or admin, or a member the store has seen.
    await store.touchMember('U01CAROL');
    for (const [name, owner] of [
      ['for-dave', 'U01DAVE'],
      ['for-carol', 'U01CAROL'],
    ] as const) {
      await createToken(...tokenFor(name, 'reader', owner));
    }
    expect((await store.listApiTokens()).map((t) => t.owner)).toEqual(['U01DAVE', 'U01CAROL']);
  });

  it('only admins make tokens, --for or not', async () => {
    const refused = await cli(
      'token',
      'create',
      ...tokenFor('mine', 'requester', 'U01BOB'),
      '--as',
      'U01BOB',
    );
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/Only admins/);
  });
});

describe('an approver cannot approve a purchase requested through their own token', () => {
  it('MCP HTTP records on whose behalf; the CLI refuses the owner, says why; another approver buys', async () => {
    const client = await connect(
      await createToken(...tokenFor('bob-claude', 'requester', 'U01BOB')),
    );
    const result = (await client.callTool({
      name: 'request_purchase',
      arguments: { target: '415', reason: 'my assistant' },
    })) as CallToolResult;
    expect(result.isError, textOf(result)).toBeFalsy();
    const requested = result.structuredContent as Record<string, unknown>;
    expect(requested).toMatchObject({
      status: 'pending',
      requester: 'mcp:bob-claude',
      onBehalfOf: 'U01BOB',
    });
    expect(textOf(result)).toContain('requested by mcp:bob-claude on behalf of U01BOB');
    const id = requested.requestId as string;
    expect((await store.getRequest(id))?.onBehalfOf).toBe('U01BOB');

    const refused = await cli('approve', id, '--as', 'U01BOB');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      `You cannot approve ${id}: it was requested through your MCP token bob-claude`,
    );
    expect(refused.stderr).toContain('another approver (U01DAVE)');
    expect((await store.getRequest(id))?.status).toBe('pending');
    expect(Object.keys(deps.sandbox.state().orders)).toHaveLength(0);

    const shown = await cli('request', id, '--as', 'U01BOB');
    expect(shown.stdout).toContain('requested by mcp:bob-claude on behalf of U01BOB via mcp');
    const listed = await cli('requests', '--as', 'U01DAVE');
    expect(listed.stdout).toContain('mcp:bob-claude for U01BOB');

    const followed = (await client.callTool({
      name: 'get_request',
      arguments: { id },
    })) as CallToolResult;
    expect(followed.structuredContent).toMatchObject({ status: 'pending', onBehalfOf: 'U01BOB' });

    const approved = await cli('approve', id, '--as', 'U01DAVE', '--json');
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout).result.request).toMatchObject({
      status: 'done',
      decidedBy: 'U01DAVE',
    });
  });

  it('the owner, even a member who is no approver, may withdraw it through the CLI', async () => {
    await store.touchMember('U01ALICE');
    const client = await connect(
      await createToken(...tokenFor('alice-claude', 'requester', 'U01ALICE')),
    );
    const requested = (
      (await client.callTool({
        name: 'request_purchase',
        arguments: { target: '212' },
      })) as CallToolResult
    ).structuredContent as { requestId: string };
    const withdrawn = await cli('deny', requested.requestId, 'not', 'needed', '--as', 'U01ALICE');
    expect(withdrawn.code, withdrawn.stderr).toBe(0);
    expect((await store.getRequest(requested.requestId))?.status).toBe('denied');
  });
});

describe('a token acts for its owner over MCP HTTP (migration 015)', () => {
  const numbersOf = async (client: Client, scope: string) =>
    (
      ((await client.callTool({ name: 'list_numbers', arguments: { scope } })) as CallToolResult)
        .structuredContent as { numbers: Array<{ number: string; owner: string | null }> }
    ).numbers.map((n) => [n.number, n.owner]);

  it("claims and buys for its owner; list_numbers mine shows the owner's; it releases theirs, not another's", async () => {
    await store.touchMember('U01ALICE');
    const synced = await cli('sync', '--as', 'U01ADMIN');
    expect(synced.code, synced.stderr).toBe(0);
    const pool = (await store.listNumbers({ scope: 'pool' })).map((n) => n.e164);
    const [mineToClaim, carols, aliceDirect] = pool as [string, string, string];
    expect((await cli('claim', carols, '--as', 'U01CAROL')).code).toBe(0);
    expect((await cli('claim', aliceDirect, '--as', 'U01ALICE')).code).toBe(0);

    const claude = await connect(
      await createToken(...tokenFor('alice-claude', 'requester', 'U01ALICE')),
    );
    const reader = await connect(
      await createToken(...tokenFor('alice-dash', 'reader', 'U01ALICE')),
    );

    const claimed = (await claude.callTool({
      name: 'claim_number',
      arguments: { number: mineToClaim },
    })) as CallToolResult;
    expect(claimed.isError, textOf(claimed)).toBeFalsy();
    expect((await store.getNumber(mineToClaim))?.owner).toBe('U01ALICE');

    const requested = (
      (await claude.callTool({
        name: 'request_purchase',
        arguments: { target: '415' },
      })) as CallToolResult
    ).structuredContent as { requestId: string; number: string };
    const approved = await cli('approve', requested.requestId, '--as', 'U01BOB', '--json');
    expect(approved.code, approved.stderr).toBe(0);
    const followed = (await claude.callTool({
      name: 'get_request',
      arguments: { id: requested.requestId },
    })) as CallToolResult;
    expect(textOf(followed)).toContain(`now belongs to U01ALICE`);

    const alices = [aliceDirect, mineToClaim, requested.number].sort();
    for (const client of [claude, reader]) {
      const mine = await numbersOf(client, 'mine');
      expect(mine.map(([n]) => n).sort()).toEqual(alices);
      expect(new Set(mine.map(([, owner]) => owner))).toEqual(new Set(['U01ALICE']));
    }
    const cliMine = await cli('list', 'mine', '--as', 'U01ALICE', '--json');
    expect(
      (
        JSON.parse(cliMine.stdout) as { result: { numbers: Array<{ e164: string }> } }
      ).result.numbers
        .map((n) => n.e164)
        .sort(),
    ).toEqual(alices);

    // A reader still only reads, whoever owns it.
    const readerClaim = (await reader.callTool({
      name: 'release_number',
      arguments: { number: aliceDirect },
    })) as CallToolResult;
    expect(readerClaim.isError).toBe(true);
    expect(textOf(readerClaim)).toMatch(/reader token/);

    const other = (await claude.callTool({
      name: 'release_number',
      arguments: { number: carols },
    })) as CallToolResult;
    expect(other.isError).toBe(true);
    expect(textOf(other)).toMatch(/^FORBIDDEN: .*belongs to U01CAROL/);
    expect((await store.getNumber(carols))?.status).toBe('assigned');

    const released = (await claude.callTool({
      name: 'release_number',
      arguments: { number: aliceDirect },
    })) as CallToolResult;
    expect(released.isError, textOf(released)).toBeFalsy();
    expect((await store.getNumber(aliceDirect))?.status).toBe('released');
    const [event] = await store.listAudit({ actor: 'mcp:alice-claude', limit: 1 });
    expect(event).toMatchObject({
      command: 'release',
      outcome: 'ok',
      target: aliceDirect,
      detail: { onBehalfOf: 'U01ALICE' },
    });
  });
});
