/**
 * The MCP tools through the SDK's own Client over InMemoryTransport, a fresh server per test, on a
 * real (PGlite) store with the sandbox carrier and agents. The Client validates every
 * structuredContent against the tool's outputSchema, so a wrong output schema fails these tests.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturedLogger } from '../helpers/logs.js';
import { runCommand } from '../../src/core/command.js';
import { approve } from '../../src/core/commands/index.js';
import type { Carrier, OwnedNumber } from '../../src/core/ports.js';
import { servedTools } from '../../src/mcp/server.js';
import { DESIGN_TOOL_NAMES, EXTRA_TOOL_NAMES, toolSpecs } from '../../src/mcp/tools.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { BOB, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';
import type { Connected } from './helpers.js';
import { MCP_ALICE, MCP_LOCAL, MCP_READER, connectInMemory, textOf } from './helpers.js';

let store: SqlStore;
let deps: TestDeps;
const open: Connected[] = [];

beforeEach(async () => {
  store = await freshPglite();
  deps = makeDeps(store);
});
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  await store.close();
});

async function connect(
  ...args: Parameters<typeof connectInMemory> extends [unknown, ...infer R] ? R : never
) {
  const connected = await connectInMemory(deps, ...args);
  open.push(connected);
  return connected.client;
}

type Structured = Record<string, unknown>;
const structured = (result: unknown) => (result as CallToolResult).structuredContent as Structured;

const READ_TOOLS = ['get_request', 'list_agents', 'list_numbers', 'search_numbers'];
/** What is served: every tool DESIGN.md names, and unclaim_number besides (not in DESIGN.md). */
const SERVED = [...DESIGN_TOOL_NAMES, ...EXTRA_TOOL_NAMES];

describe('tool list, schemas and annotations', () => {
  it('serves every tool DESIGN.md names, and unclaim_number besides; never approve or deny', async () => {
    expect(EXTRA_TOOL_NAMES).toEqual(['unclaim_number']);
    expect(DESIGN_TOOL_NAMES).not.toContain('unclaim_number');
    const client = await connect(MCP_LOCAL);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect([...names].sort()).toEqual([...SERVED].sort());
    expect(names.filter((n) => /approve|deny/.test(n))).toEqual([]);
    // A member is offered every tool but the one only admins may use.
    const member = await connect(MCP_ALICE);
    const offered = (await member.listTools()).tools.map((t) => t.name);
    expect([...offered].sort()).toEqual(SERVED.filter((n) => n !== 'sync_numbers').sort());
    // The table maps every tool to a core command: DESIGN.md's in its order, unclaim_number
    // beside claim_number.
    const table = toolSpecs({ approvers: [] }).map((s) => s.name);
    expect(table.filter((n) => n !== 'unclaim_number')).toEqual([...DESIGN_TOOL_NAMES]);
    expect(table.indexOf('unclaim_number')).toBe(table.indexOf('claim_number') + 1);
    expect(toolSpecs({ approvers: [] }).find((s) => s.name === 'unclaim_number')?.command).toBe(
      'unclaim',
    );
  });

  it('describes every input field for a model and declares an object output schema', async () => {
    const client = await connect(MCP_ALICE);
    const { tools } = await client.listTools();
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(60);
      expect(tool.inputSchema.type).toBe('object');
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect(
          (schema as { description?: string }).description,
          `${tool.name}.${field}`,
        ).toBeTruthy();
      }
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      expect(Object.keys(tool.outputSchema?.properties ?? {}).length, tool.name).toBeGreaterThan(0);
    }
  });

  it('tells the truth in annotations: only pure reads are read-only; spending and releasing are destructive', async () => {
    const client = await connect(MCP_ALICE);
    const byName = new Map<string, Tool>((await client.listTools()).tools.map((t) => [t.name, t]));
    const a = (name: string) => byName.get(name)?.annotations ?? {};
    expect(
      [...byName.values()]
        .filter((t) => t.annotations?.readOnlyHint)
        .map((t) => t.name)
        .sort(),
    ).toEqual(['list_agents', 'list_numbers']);
    // search saves quotes and get_request expires overdue requests: not read-only.
    expect(a('search_numbers')).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      openWorldHint: true,
    });
    expect(a('get_request')).toMatchObject({ readOnlyHint: false, idempotentHint: true });
    expect(a('request_purchase')).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(a('release_number')).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(a('claim_number')).toMatchObject({
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    // Back to the pool: nothing bought or released, nothing outside Switchboard asked; a second
    // call changes nothing more.
    expect(a('unclaim_number')).toEqual({
      title: 'Give a number back to the team pool',
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(a('list_numbers')).toMatchObject({ openWorldHint: false });
    for (const tool of byName.values()) {
      const command = servedTools(deps).find((t) => t.spec.name === tool.name)?.command;
      if (command?.effect === 'spend')
        expect(tool.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'])
        expect(
          typeof (tool.annotations as Record<string, unknown>)[hint],
          `${tool.name}.${hint}`,
        ).toBe('boolean');
    }
  });
});

describe('every tool, called', () => {
  it('sync, search, request, follow, claim, unclaim, link, unlink, list, agents, release', async () => {
    const local = await connect(MCP_LOCAL);
    const synced = await local.callTool({ name: 'sync_numbers', arguments: {} });
    expect(synced.isError, textOf(synced)).toBeFalsy();
    const sandboxRun = (structured(synced).results as Structured[])[0];
    expect(sandboxRun).toMatchObject({ carrier: 'sandbox', status: 'succeeded' });
    expect(sandboxRun?.new as number).toBeGreaterThan(0);

    const client = await connect(MCP_ALICE);
    const found = await client.callTool({
      name: 'search_numbers',
      arguments: { query: '415', limit: 3 },
    });
    expect(found.isError, textOf(found)).toBeFalsy();
    const quotes = structured(found).quotes as Array<{ quoteId: string; number: string }>;
    expect(quotes).toHaveLength(3);
    expect(textOf(found)).toContain(quotes[0]!.quoteId);

    const requested = await client.callTool({
      name: 'request_purchase',
      arguments: { target: quotes[0]!.quoteId, reason: 'Support line' },
    });
    expect(requested.isError, textOf(requested)).toBeFalsy();
    const req = structured(requested);
    expect(req).toMatchObject({
      status: 'pending',
      number: quotes[0]!.number,
      approvers: ['U01BOB'],
      autoApproved: false,
      bought: null,
    });
    expect(typeof req.monthlyCost).toBe('number');
    expect(textOf(requested)).toMatch(/Asked to approve: U01BOB/);

    const followed = await client.callTool({
      name: 'get_request',
      arguments: { id: req.requestId },
    });
    expect(structured(followed)).toMatchObject({ requestId: req.requestId, status: 'pending' });

    const pool = await client.callTool({ name: 'list_numbers', arguments: { scope: 'pool' } });
    const poolNumbers = structured(pool).numbers as Array<{ number: string; owner: string | null }>;
    expect(poolNumbers.length).toBeGreaterThan(0);
    expect(poolNumbers.every((n) => n.owner === null)).toBe(true);
    const target = poolNumbers[0]!.number;

    const claimed = await client.callTool({ name: 'claim_number', arguments: { number: target } });
    expect(structured(claimed)).toMatchObject({
      alreadyYours: false,
      number: { number: target, owner: 'U01ALICE', status: 'assigned' },
    });
    const again = await client.callTool({ name: 'claim_number', arguments: { number: target } });
    expect(structured(again)).toMatchObject({ alreadyYours: true });

    // Given back to the pool, then claimed again.
    const given = await client.callTool({ name: 'unclaim_number', arguments: { number: target } });
    expect(given.isError, textOf(given)).toBeFalsy();
    expect(structured(given)).toEqual({
      number: expect.objectContaining({ number: target, owner: null, status: 'available' }),
      previousOwner: 'U01ALICE',
      wasYours: true,
    });
    const cost = `$${(structured(given).number as { monthlyCost: number }).monthlyCost.toFixed(2)}`;
    expect(textOf(given)).toBe(
      `${target} is back in the team pool: anyone can claim it with claim_number. It stays in the carrier account and still costs ${cost}/mo; to stop that, an admin releases it (release_number).`,
    );
    const twice = await client.callTool({ name: 'unclaim_number', arguments: { number: target } });
    expect(twice.isError).toBe(true);
    expect(textOf(twice)).toMatch(/^CONFLICT: .* is already in the team pool/);
    expect(
      structured(await client.callTool({ name: 'claim_number', arguments: { number: target } })),
    ).toMatchObject({ alreadyYours: false, number: { owner: 'U01ALICE' } });

    const agents = await client.callTool({ name: 'list_agents', arguments: {} });
    const agent = (structured(agents).agents as Array<{ agent: string }>)[0]!.agent;
    const linked = await client.callTool({
      name: 'link_number',
      arguments: { number: target, agent },
    });
    expect(structured(linked)).toMatchObject({ changed: true, number: { agent }, movedFrom: null });
    // Moved to another agent: the answer names the one that stops getting its calls.
    const other = (structured(agents).agents as Array<{ agent: string }>).find(
      (a) => a.agent.split(':')[0] !== agent.split(':')[0],
    )!.agent;
    const moved = await client.callTool({
      name: 'link_number',
      arguments: { number: target, agent: other },
    });
    expect(structured(moved)).toMatchObject({
      changed: true,
      number: { agent: other },
      movedFrom: agent,
    });
    expect(textOf(moved)).toBe(`Linked: ${target} to ${other}; ${agent} no longer gets its calls.`);

    const mine = await client.callTool({ name: 'list_numbers', arguments: {} });
    expect(structured(mine)).toMatchObject({ scope: 'mine', count: 1 });
    expect(textOf(mine)).toContain(target);

    const unlinked = await client.callTool({
      name: 'unlink_number',
      arguments: { number: target },
    });
    expect(structured(unlinked)).toMatchObject({ changed: true, number: { agent: null } });

    const released = await client.callTool({
      name: 'release_number',
      arguments: { number: target, reason: 'done' },
    });
    expect(structured(released)).toMatchObject({
      unlinked: false,
      goneAlready: false,
      number: { number: target, status: 'released' },
    });

    // Each call left one audit event, by the MCP actor, on the mcp surface.
    const events = await store.listAudit({ actor: 'U01ALICE', limit: 50 });
    expect(events.every((e) => e.surface === 'mcp')).toBe(true);
    expect(events.map((e) => e.command).sort()).toEqual(
      [
        'agents',
        'buy',
        'claim',
        'claim',
        'claim',
        'link',
        'link',
        'list',
        'list',
        'release',
        'request',
        'search',
        'unclaim',
        'unclaim',
        'unlink',
      ].sort(),
    );
  });
});

describe('roles and refusals', () => {
  it('a reader sees only the read tools and is refused the others, with an audited refusal', async () => {
    const client = await connect(MCP_READER);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(READ_TOOLS);
    for (const name of [
      'request_purchase',
      'claim_number',
      'unclaim_number',
      'release_number',
      'link_number',
      'unlink_number',
      'sync_numbers',
    ]) {
      const result = await client.callTool({
        name,
        arguments: { number: '+14155550100', target: '415' },
      });
      expect(result.isError, name).toBe(true);
      expect(textOf(result)).toMatch(/reader token/);
      expect(textOf(result)).toMatch(/--role requester/);
    }
    const events = await store.listAudit({ actor: 'mcp:dashboard', limit: 20 });
    expect(events).toHaveLength(7);
    expect(events.every((e) => e.outcome === 'refused' && e.errorCode === 'FORBIDDEN')).toBe(true);
    expect(deps.sandbox.state().owned).toBeDefined();
    expect(await store.listRequests({})).toEqual([]);
  });

  it('a requester cannot sync (admins only) and gets an error that says what to do', async () => {
    const client = await connect(MCP_ALICE);
    // Not offered to her, and refused if called all the same.
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('sync_numbers');
    const result = await client.callTool({ name: 'sync_numbers', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^FORBIDDEN: Only admins can sync/);
    expect(textOf(result)).toMatch(/Do not retry/);
  });

  it('there is no approve tool; asking for one says approvals are for humans', async () => {
    const client = await connect(MCP_LOCAL);
    const result = await client.callTool({ name: 'approve', arguments: { id: 'R-AAAAAAAA' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/no tool "approve".*for humans/s);
  });

  it('bad input comes back as isError text that names the fix, and is audited', async () => {
    const client = await connect(MCP_ALICE);
    const result = await client.callTool({ name: 'claim_number', arguments: { number: '12' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^INVALID_INPUT: number: give a phone number in E\.164 form/);
    expect(textOf(result)).toMatch(/Fix the arguments/);
    const [event] = await store.listAudit({ actor: 'U01ALICE', limit: 1 });
    expect(event).toMatchObject({
      command: 'claim',
      outcome: 'refused',
      errorCode: 'INVALID_INPUT',
      surface: 'mcp',
    });
  });
});

describe('arguments a tool does not have', () => {
  it('are refused with the names it has (they were dropped silently), and the schemas say so', async () => {
    const client = await connect(MCP_ALICE);
    for (const tool of (await client.listTools()).tools)
      expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);

    const result = await client.callTool({
      name: 'search_numbers',
      arguments: { query: '800', numberType: 'toll-free' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      'INVALID_INPUT: search_numbers has no argument "numberType". Its arguments: query, contains, region, type, features, country, carrier, limit.\nFix the arguments as the message says and call the tool again.',
    );
    const [event] = await store.listAudit({ actor: 'U01ALICE', limit: 1 });
    expect(event).toMatchObject({
      command: 'search',
      outcome: 'refused',
      errorCode: 'INVALID_INPUT',
    });

    const paged = await client.callTool({
      name: 'list_numbers',
      arguments: { scope: 'pool', offset: 100, cursor: 'x' },
    });
    expect(textOf(paged)).toMatch(
      /^INVALID_INPUT: list_numbers has no arguments "offset", "cursor"\. Its arguments: scope, area, limit, after\./,
    );
    const none = await client.callTool({ name: 'sync_numbers', arguments: { all: true } });
    expect(textOf(none)).toMatch(
      /^INVALID_INPUT: sync_numbers has no argument "all"\. Its arguments: carrier\./,
    );
  });
});

describe('unexpected failures', () => {
  it('the model gets a generic message with an error id; the log line with that id has the cause', async () => {
    const { logger, records } = capturedLogger();
    deps.store = Object.create(store, {
      listNumbers: {
        value: async () => {
          throw new Error('relation "numbers" is locked by pid 4242');
        },
      },
    }) as SqlStore;
    const client = await connect(MCP_ALICE, {}, undefined, { logger });
    const result = await client.callTool({ name: 'list_numbers', arguments: {} });
    expect(result.isError).toBe(true);
    const match =
      /^INTERNAL: Something went wrong inside Switchboard\. \(error id ([0-9a-f]{8})\)\n/.exec(
        textOf(result),
      );
    expect(match, textOf(result)).not.toBeNull();
    expect(textOf(result)).not.toContain('pid 4242');
    const logged = records().find((line) => line.msg === 'tool failed');
    expect(logged).toMatchObject({ errorId: match?.[1], tool: 'list_numbers' });
    expect(JSON.stringify(logged)).toContain('pid 4242');
  });
});

describe('purchases wait for a human', () => {
  it('a purchase requested over MCP stays pending until a CLI approver approves it through the core', async () => {
    const client = await connect(MCP_ALICE);
    const requested = structured(
      await client.callTool({
        name: 'request_purchase',
        arguments: { target: '415', reason: 'Sales line' },
      }),
    );
    const id = requested.requestId as string;
    expect(requested.status).toBe('pending');

    // An MCP identity is refused approval by the core, whoever it claims to be.
    await expect(
      runCommand(deps, approve, { id: 'U01BOB', surface: 'mcp' }, { id }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(
      structured(await client.callTool({ name: 'get_request', arguments: { id } })).status,
    ).toBe('pending');
    expect(deps.sandbox.state().owned[requested.number as string]).toBeUndefined();

    await runCommand(deps, approve, BOB, { id });
    const done = structured(await client.callTool({ name: 'get_request', arguments: { id } }));
    expect(done).toMatchObject({ status: 'done', decidedBy: 'U01BOB' });
    expect(done.next).toMatch(/Bought/);
    expect(deps.sandbox.state().owned[requested.number as string]).toBeDefined();
  });
});

describe('elicitation', () => {
  const withAnswer = (answer: {
    action: 'accept' | 'decline' | 'cancel';
    content?: Record<string, unknown>;
  }) => {
    const asked: string[] = [];
    return {
      asked,
      setup: (client: Client) =>
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked.push(request.params.message);
          return answer;
        }),
    };
  };

  it('asks the user to confirm number and price, then requests exactly that quote', async () => {
    const { asked, setup } = withAnswer({ action: 'accept', content: { confirm: true } });
    const client = await connect(MCP_ALICE, { elicitation: { form: {} } }, setup);
    const result = structured(
      await client.callTool({ name: 'request_purchase', arguments: { target: '415' } }),
    );
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(
      /^Request the purchase of \+1 415 555 \d{4} \(San Francisco, CA\) from sandbox .* at \$\d+\.\d\d\/month \+ \$\d+\.\d\d upfront\? A human approver still has to approve/,
    );
    expect(result.status).toBe('pending');
    expect(asked[0]).toContain(`${(result.monthlyCost as number).toFixed(2)}/month`);
    const [request] = await store.listRequests({});
    expect(request?.e164).toBe(result.number);
  });

  for (const action of ['decline', 'cancel'] as const) {
    it(`${action}: nothing is created, the model is told, the refusal is audited`, async () => {
      const { asked, setup } = withAnswer({ action });
      const client = await connect(MCP_ALICE, { elicitation: {} }, setup);
      const result = await client.callTool({
        name: 'request_purchase',
        arguments: { target: '415' },
      });
      expect(asked).toHaveLength(1);
      expect(result.isError).toBeFalsy();
      expect(structured(result)).toMatchObject({ requestId: null, status: 'declined' });
      expect(textOf(result)).toMatch(/nothing was requested/);
      expect(await store.listRequests({})).toEqual([]);
      const [event] = await store.listAudit({ actor: 'U01ALICE', limit: 1 });
      expect(event).toMatchObject({ command: 'buy', outcome: 'refused' });
      expect(event?.message).toContain(action === 'decline' ? 'declined' : 'cancelled');
    });
  }

  it('accept with confirm false counts as declined', async () => {
    const { setup } = withAnswer({ action: 'accept', content: { confirm: false } });
    const client = await connect(MCP_ALICE, { elicitation: { form: {} } }, setup);
    const result = await client.callTool({
      name: 'request_purchase',
      arguments: { target: '415' },
    });
    expect(structured(result).status).toBe('declined');
    expect(await store.listRequests({})).toEqual([]);
  });

  it('under the auto-approve threshold, the user and the model are told it is bought at once', async () => {
    const strict = await connect(MCP_ALICE);
    for (const tool of (await strict.listTools()).tools)
      expect(tool.description, tool.name).not.toContain('bought at once');

    deps.policy = { ...deps.policy, autoApproveUnderMonthly: 100 };
    const { asked, setup } = withAnswer({ action: 'accept', content: { confirm: true } });
    const client = await connect(MCP_ALICE, { elicitation: { form: {} } }, setup);
    const described = new Map(
      (await client.listTools()).tools.map((t) => [t.name, t.description ?? '']),
    );
    for (const name of ['request_purchase', 'provision_number'])
      expect(described.get(name), name).toContain(
        "this server's policy approves a number under $100.00/month by itself, and it is bought at once, with no human",
      );

    const result = structured(
      await client.callTool({ name: 'request_purchase', arguments: { target: '415' } }),
    );
    expect(result).toMatchObject({ status: 'done', autoApproved: true });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(
      /^Buy \+1 415 555 \d{4} .* upfront\? It is under this server's auto-approve threshold \(\$100\.00\/month\), so it is bought at once, with no other approval\.$/,
    );
    expect(asked[0]).not.toContain('human approver');
  });

  it('a user who does not answer in time: nothing is requested, and the model is told so', async () => {
    const asked: string[] = [];
    const client = await connect(
      MCP_ALICE,
      { elicitation: { form: {} } },
      (c) =>
        c.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked.push(request.params.message);
          return new Promise<never>(() => undefined); // still reading the price
        }),
      { confirmTimeoutMs: 1_500 },
    );
    const result = await client.callTool({
      name: 'request_purchase',
      arguments: { target: '415' },
    });
    expect(asked).toHaveLength(1);
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(structured(result)).toMatchObject({ requestId: null, status: 'declined' });
    expect(textOf(result)).toMatch(
      /^The user did not answer within 2 seconds when asked to confirm the purchase of \+1415\d{7} at .*; nothing was requested\. Ask the user whether they still want it/,
    );
    expect(await store.listRequests({})).toEqual([]);
    const [event] = await store.listAudit({ actor: 'U01ALICE', limit: 1 });
    expect(event).toMatchObject({ command: 'buy', outcome: 'refused' });
    expect(event?.message).toContain('did not answer');
  });

  it('a client without elicitation goes straight through (the approval is the gate)', async () => {
    const client = await connect(MCP_ALICE);
    const result = await client.callTool({
      name: 'request_purchase',
      arguments: { target: '415' },
    });
    expect(structured(result).status).toBe('pending');
  });
});

describe('sync_numbers: progress and cancellation', () => {
  it('sends progress notifications that only grow, from the core progress callback', async () => {
    await store.close();
    store = await freshPglite();
    deps = makeDeps(store, { carrier: { extraOwned: 4000, pageSize: 500 } });
    const client = await connect(MCP_LOCAL);
    const seen: number[] = [];
    const result = await client.callTool({ name: 'sync_numbers', arguments: {} }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe((structured(result).results as Array<{ seen: number }>)[0]!.seen);
  });

  it('stops cleanly when the client cancels: the run is marked failed, the carrier is read no further', async () => {
    let pages = 0;
    const endless: Carrier = {
      ...deps.sandbox,
      name: 'sandbox',
      async *listOwned(options?: { signal?: AbortSignal }) {
        for (let page = 0; ; page++) {
          if (options?.signal?.aborted) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
          pages++;
          yield Array.from({ length: 1000 }, (_, i): OwnedNumber => ({
            e164: `+1628${String(page * 1000 + i).padStart(7, '0')}`,
            carrierRef: null,
            carrierAccount: null,
            country: 'US',
            region: 'CA',
            locality: null,
            numberType: 'local',
            features: ['voice'],
            monthlyCost: 1,
            upfrontCost: 1,
            currency: 'USD',
          }));
        }
      },
    };
    deps.carriers = { sandbox: endless };
    const client = await connect(MCP_LOCAL);
    const controller = new AbortController();
    const call = client.callTool({ name: 'sync_numbers', arguments: {} }, undefined, {
      signal: controller.signal,
      onprogress: () => controller.abort('the user pressed stop'),
    });
    await expect(call).rejects.toThrow();
    // The server finishes the cancelled command: its run ends failed and its audit event is written.
    await expect
      .poll(async () => (await store.listSyncRuns(1))[0]?.status, { timeout: 10_000 })
      .toBe('failed');
    // A page already in flight when the signal fired may land; after that, nothing more is read.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stoppedAt = pages;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pages).toBe(stoppedAt);
    const [event] = await store.listAudit({ actor: 'local', limit: 1 });
    expect(event).toMatchObject({ command: 'sync', surface: 'mcp' });
    expect(event?.outcome).not.toBe('ok');
  });
});
