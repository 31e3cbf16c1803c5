/**
 * What a model reads back from the tools whose results are more than one record: provision_number
 * (a purchase request, or an existing number claimed and linked), get_request on a request that
 * provision made (its number is linked without another call), list_agents with nothing to list,
 * search_numbers' advice, and the money fields of every output schema. The SDK's Client validates
 * each structuredContent against the tool's outputSchema.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { approve } from '../../src/core/commands/index.js';
import { CoreError } from '../../src/core/errors.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { BOB, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';
import type { Connected } from './helpers.js';
import { MCP_ALICE, MCP_LOCAL, connectInMemory, textOf } from './helpers.js';

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

async function connect(identity = MCP_ALICE) {
  const connected = await connectInMemory(deps, identity);
  open.push(connected);
  return connected.client;
}

type Structured = Record<string, unknown>;
const structured = (result: unknown) => (result as CallToolResult).structuredContent as Structured;
const AGENT = 'retell:agent_sandbox_support';

describe('provision_number', () => {
  it('a purchase: the request, who must approve it and where, the agent it will be linked to; no internal fields', async () => {
    const client = await connect();
    const result = await client.callTool({
      name: 'provision_number',
      arguments: { target: '+14155550123', agent: AGENT, reason: 'Acme front desk' },
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = structured(result);
    expect(out).toMatchObject({
      mode: 'purchase',
      agent: AGENT,
      fallback: 'area-code',
      foundIn: 'area code 415 (San Francisco, CA)',
      number: null,
      request: {
        status: 'pending',
        requester: 'U01ALICE',
        approvers: ['U01BOB'],
        autoApproved: false,
        currency: 'USD',
        reason: 'Acme front desk',
        linkTo: AGENT,
        linkStatus: 'pending',
      },
    });
    const request = out.request as Structured;
    expect(request.requestId).toMatch(/^R-/);
    expect(request.number).toMatch(/^\+1415/);
    // The carrier's and the store's own bookkeeping stays inside.
    for (const internal of ['holdRef', 'carrierOrderRef', 'attempts', 'numberId', 'quoteId'])
      expect(JSON.stringify(out)).not.toContain(internal);

    const text = textOf(result);
    expect(text).toContain(`Request ${request.requestId as string}: pending.`);
    expect(text).toContain('Found in area code 415 (San Francisco, CA).');
    expect(text).toMatch(
      /Waiting for a human approver \(U01BOB\) to approve or deny it in Slack or the CLI/,
    );
    expect(text).toContain(`linked to ${AGENT} without another call`);
    expect(text).toContain('Asked to approve: U01BOB.');
    expect(text).not.toMatch(/^\s*[{[]/);
  });

  it('an existing number: claimed and linked, nothing bought, in words', async () => {
    const local = await connect(MCP_LOCAL);
    expect((await local.callTool({ name: 'sync_numbers', arguments: {} })).isError).toBeFalsy();
    const pool = structured(
      await local.callTool({ name: 'list_numbers', arguments: { scope: 'pool', limit: 1 } }),
    );
    const target = (pool.numbers as Array<{ number: string }>)[0]!.number;

    const client = await connect();
    const result = await client.callTool({
      name: 'provision_number',
      arguments: { target, agent: AGENT, existing: true },
    });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(structured(result)).toMatchObject({
      mode: 'existing',
      agent: AGENT,
      request: null,
      imported: false,
      claimed: true,
      linked: true,
      number: { number: target, owner: 'U01ALICE', agent: AGENT },
    });
    expect(textOf(result)).toContain(
      `${target}: claimed for U01ALICE, linked to ${AGENT}. Nothing was bought.`,
    );
  });
});

describe('get_request on a request provision made', () => {
  async function provisionAndApprove(client: Awaited<ReturnType<typeof connect>>) {
    const made = structured(
      await client.callTool({
        name: 'provision_number',
        arguments: { target: '415', agent: AGENT },
      }),
    );
    const id = (made.request as Structured).requestId as string;
    await runCommand(deps, approve, BOB, { id });
    return id;
  }

  it('once bought and linked, says so and does not send the model to link_number', async () => {
    const client = await connect();
    const id = await provisionAndApprove(client);
    const result = await client.callTool({ name: 'get_request', arguments: { id } });
    expect(structured(result)).toMatchObject({
      status: 'done',
      linkTo: AGENT,
      linkStatus: 'linked',
    });
    expect(structured(result).next).toContain(`It is linked to ${AGENT}: nothing more to do.`);
    expect(textOf(result)).not.toContain('Link it to a voice agent with link_number');
  });

  it('when the link failed after the purchase, says why and how to finish it', async () => {
    const client = await connect();
    deps.agents = {
      ...deps.agents,
      retell: {
        ...deps.retell,
        link: async () => {
          throw new CoreError('UPSTREAM', 'Retell answered 503');
        },
      },
    };
    const id = await provisionAndApprove(client);
    const result = await client.callTool({ name: 'get_request', arguments: { id } });
    const out = structured(result);
    expect(out).toMatchObject({ status: 'done', linkTo: AGENT, linkStatus: 'failed' });
    expect(out.next).toContain('Retell answered 503');
    expect(out.next).toContain(
      `Finish with link_number (number ${out.number as string}, agent ${AGENT}).`,
    );
  });

  it('a plain purchase has no link to make', async () => {
    const client = await connect();
    const made = structured(
      await client.callTool({ name: 'request_purchase', arguments: { target: '415' } }),
    );
    expect(made).toMatchObject({ linkTo: null, linkStatus: null });
    await runCommand(deps, approve, BOB, { id: made.requestId as string });
    const done = structured(
      await client.callTool({ name: 'get_request', arguments: { id: made.requestId } }),
    );
    expect(done.next).toContain('Link it to a voice agent with link_number.');
  });
});

describe('list_agents', () => {
  it('with no agents anywhere, says so (the text is never empty)', async () => {
    deps.agents = { retell: { ...deps.retell, listAgents: async () => [] } };
    const client = await connect();
    const result = await client.callTool({ name: 'list_agents', arguments: {} });
    expect(structured(result)).toEqual({ agents: [], skipped: [] });
    expect(textOf(result)).toBe(
      'No voice agents found: create one in Retell or VAPI first; nothing can be linked until then.',
    );
  });

  it('one platform failing is left out by name; every platform failing is an error, not an empty list', async () => {
    const down = async () => {
      throw new CoreError('UPSTREAM', 'VAPI could not be reached (list assistants).');
    };
    deps.agents = { retell: deps.retell, vapi: { ...deps.vapi, listAgents: down } };
    const client = await connect();
    const some = await client.callTool({ name: 'list_agents', arguments: {} });
    expect(some.isError, textOf(some)).toBeFalsy();
    expect(structured(some).skipped).toEqual([
      { platform: 'vapi', reason: 'VAPI could not be reached (list assistants).' },
    ]);
    expect(textOf(some)).toContain('(vapi left out: VAPI could not be reached (list assistants).)');

    deps.agents = { vapi: { ...deps.vapi, listAgents: down } };
    const none = await client.callTool({ name: 'list_agents', arguments: {} });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toContain(
      'Every voice platform failed: vapi: VAPI could not be reached (list assistants). Try again in a minute.',
    );
  });
});

describe('search_numbers', () => {
  const search = async (args: Record<string, unknown>) => {
    const client = await connect();
    const result = await client.callTool({ name: 'search_numbers', arguments: args });
    expect(result.isError, textOf(result)).toBeFalsy();
    return result;
  };

  it("nothing found: loosen only what narrowed the search, in the tool's own argument names", async () => {
    const narrowed = await search({ query: '415', contains: '99999' });
    expect(structured(narrowed).quotes).toEqual([]);
    expect(structured(narrowed).next).toBe(
      'Nothing found: try a nearby area code as query or a shorter contains pattern.',
    );
    expect(textOf(narrowed)).toBe(
      'No numbers available in area code 415 (San Francisco, CA).\n' +
        'Nothing found: try a nearby area code as query or a shorter contains pattern.\n' +
        '(sandbox carrier: pretend numbers; nothing is really bought)',
    );

    deps.carriers = { sandbox: { ...deps.sandbox, search: async () => [] } };
    const plain = await search({ query: '415' });
    expect(textOf(plain)).toContain('Nothing found: try a nearby area code as query.');
    expect(textOf(plain)).not.toMatch(/filters|features|--/);
  });

  it('a pool number in the area code comes first: claim_number costs nothing', async () => {
    const local = await connect(MCP_LOCAL);
    expect((await local.callTool({ name: 'sync_numbers', arguments: {} })).isError).toBeFalsy();
    const client = await connect();
    const found = structured(
      await client.callTool({ name: 'search_numbers', arguments: { query: '415' } }),
    );
    expect(found.pool).toEqual(['+14155550142']);
    expect(found.next).toMatch(
      /^The pool already has \+14155550142 in area code 415: claiming it is free and needs no approval\. Prefer claim_number with one of them as number\. To buy one, call request_purchase/,
    );
    const none = structured(
      await client.callTool({ name: 'search_numbers', arguments: { query: '604' } }),
    );
    expect(none.pool).toEqual([]);
    expect(none.next).toMatch(/^To buy one/);
    // A purchase request in that area code says the same, and how to undo it.
    const requested = await client.callTool({
      name: 'request_purchase',
      arguments: { target: '415', reason: 'support line' },
    });
    expect(requested.isError, textOf(requested)).toBeFalsy();
    expect(structured(requested).pool).toEqual(['+14155550142']);
    expect(textOf(requested)).toContain(
      `The pool already has +14155550142 in the same area code: claim_number takes one for nothing, and the user can then withdraw ${String(structured(requested).requestId)} (deny it in Slack or the CLI).`,
    );
  });

  it('quotes found: how to buy, and that a human approves unless policy buys it at once', async () => {
    const found = await search({ query: '415', limit: 1 });
    expect(structured(found).next).toBe(
      'To buy one, call request_purchase with the quote id as target; a human approver must approve it.',
    );
    deps.policy = { ...deps.policy, autoApproveUnderMonthly: 5 };
    const cheap = await search({ query: '415', limit: 1 });
    expect(textOf(cheap)).toContain(
      'a human approver must approve it unless it is under $5.00/month, which policy approves at once.',
    );
  });
});

describe('list_numbers', () => {
  it('pages with `after`: each page names the next, the text says how to ask for it, the last names none', async () => {
    const local = await connect(MCP_LOCAL);
    expect((await local.callTool({ name: 'sync_numbers', arguments: {} })).isError).toBeFalsy();
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const result = await local.callTool({
        name: 'list_numbers',
        arguments: { scope: 'all', limit: 2, ...(after ? { after } : {}) },
      });
      expect(result.isError, textOf(result)).toBeFalsy();
      const page = structured(result) as {
        numbers: Array<{ number: string }>;
        next: string | null;
      };
      seen.push(...page.numbers.map((n) => n.number));
      if (page.next) {
        expect(page.next).toBe(page.numbers[page.numbers.length - 1]!.number);
        expect(textOf(result)).toContain(`More after these: call again with after "${page.next}".`);
      } else expect(textOf(result)).not.toContain('More after these');
      after = page.next;
      pages++;
    } while (after && pages < 10);
    // The sandbox account's five numbers, in pages of two, each once.
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    // After the last number: the end of the list, said so.
    const past = await local.callTool({
      name: 'list_numbers',
      arguments: { scope: 'all', after: seen[seen.length - 1]! },
    });
    expect(textOf(past)).toBe(
      `No more numbers after ${seen[seen.length - 1]}: that was the end of the list. Call again without after to start over.`,
    );
    // Narrowed to an area code.
    const area = await local.callTool({
      name: 'list_numbers',
      arguments: { scope: 'pool', area: '415' },
    });
    expect(structured(area)).toMatchObject({
      area: '415',
      count: 1,
      numbers: [{ number: '+14155550142' }],
      totals: { team: { count: 1 } },
    });
    expect(textOf(area)).toMatch(/^1 number \(pool, area code 415\)/);
    expect(structured(area).poolInArea).toBeNull();
    // Alice has none of her own in 415: the pool's, free to claim, come before buying one.
    const alice = await connect();
    const mine = await alice.callTool({
      name: 'list_numbers',
      arguments: { scope: 'mine', area: '415' },
    });
    expect(structured(mine)).toMatchObject({ count: 0, area: '415', poolInArea: 1 });
    expect(textOf(mine)).toBe(
      'You have no numbers in area code 415; the pool has 1 there, free to claim: call again with scope "pool" and area "415", then claim_number.',
    );
    const none = await alice.callTool({
      name: 'list_numbers',
      arguments: { scope: 'mine', area: '604' },
    });
    expect(structured(none)).toMatchObject({ count: 0, poolInArea: 0 });
    expect(textOf(none)).toBe(
      'You have no numbers in area code 604, and the pool has none there: search_numbers to buy one.',
    );
  });
});

describe('money in output schemas', () => {
  it('every amount says its unit, every currency what it is', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    const seen: string[] = [];
    const walk = (schema: unknown, path: string): void => {
      if (!schema || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      for (const [key, value] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
        const description = (value as { description?: string }).description ?? '';
        if (/^(monthlyCost|upfrontCost|monthly)$/.test(key)) {
          seen.push(`${path}.${key}`);
          expect(description, `${path}.${key}`).toMatch(/main unit .*not cents/);
        }
        if (key === 'currency') expect(description, `${path}.${key}`).toMatch(/ISO 4217/);
        walk(value, `${path}.${key}`);
      }
      walk(s.items, `${path}[]`);
      for (const branch of (s.anyOf ?? []) as unknown[]) walk(branch, path);
    };
    for (const tool of tools) walk(tool.outputSchema, tool.name);
    // Every tool that reports money was looked at.
    for (const name of ['search_numbers', 'request_purchase', 'get_request', 'list_numbers'])
      expect(
        seen.some((p) => p.startsWith(`${name}.`)),
        name,
      ).toBe(true);
    expect(seen.some((p) => p.startsWith('provision_number.request'))).toBe(true);
  });
});
