/**
 * A search in an area code names the pool's numbers there: the team already pays for them, and
 * claiming one is free and needs no approval, so nobody buys a second 415 number by mistake.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderers } from '../../src/cli/render.js';
import { runCommand } from '../../src/core/command.js';
import { buy, claim, search, sync } from '../../src/core/commands/index.js';
import type { BuyResult } from '../../src/core/commands/buy.js';
import type { SearchResult } from '../../src/core/commands/search.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { requestedMessage } from '../../src/slack/views/request.js';
import { searchMessage } from '../../src/slack/views/search.js';
import { ADMIN, ALICE, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { syncRow } from '../helpers/fixtures.js';
import { freshPglite } from '../helpers/stores.js';

describe('search names pool numbers that would do instead', () => {
  let store: SqlStore;
  let deps: TestDeps;
  beforeEach(async () => {
    store = await freshPglite();
    deps = makeDeps(store);
  });
  afterEach(async () => {
    await store.close();
  });

  const searchFor = (input: Record<string, unknown>) =>
    runCommand(deps, search, ALICE, input) as Promise<SearchResult>;

  it('an empty pool adds nothing', async () => {
    expect((await searchFor({ query: '415' })).pool).toBeNull();
  });

  it('names the pool number in the area code, in the CLI and Slack, until someone claims it', async () => {
    await runCommand(deps, sync, ADMIN, {});
    const found = await searchFor({ query: '415' });
    expect(found.quotes.length).toBeGreaterThan(0);
    expect(found.pool).toMatchObject({
      where: 'area code 415',
      numbers: [{ e164: '+14155550142' }],
      more: false,
    });
    expect(renderers.search!(found as never)).toContain(
      'The pool already has +14155550142 in area code 415: claiming it is free and needs no approval. Claim with: switchboard claim +14155550142',
    );
    expect(JSON.stringify(searchMessage(found).blocks)).toContain(
      'claiming it is free and needs no approval. `/number claim +14155550142`',
    );
    // Another area code's pool numbers are not offered.
    expect((await searchFor({ query: '212' })).pool?.numbers.map((n) => n.e164)).toEqual([
      '+12125550117',
    ]);
    expect((await searchFor({ query: '604' })).pool).toBeNull();
    await runCommand(deps, claim, ALICE, { number: '+14155550142' });
    expect((await searchFor({ query: '415' })).pool).toBeNull();
  });

  it('a city looks in its area codes; the type and features asked for must match', async () => {
    await store.syncBegin('S-POOL', 'sandbox', ADMIN.id, new Date());
    await store.syncBatch('S-POOL', 'sandbox', [
      syncRow('+16285550100', { features: ['voice'] }),
      syncRow('+14155550101', { features: ['voice', 'sms'] }),
      syncRow('+14155550102', { features: ['voice', 'sms'] }),
      syncRow('+14155550103', { features: ['voice', 'sms'] }),
      syncRow('+14155550104', { features: ['voice', 'sms'] }),
    ]);
    const city = await searchFor({ query: 'San Francisco' });
    expect(city.pool?.where).toMatch(/^area codes (415, 628|628, 415)$/);
    expect(city.pool?.numbers).toHaveLength(3);
    expect(city.pool?.more).toBe(true);
    expect(renderers.search!(city as never)).toMatch(
      /The pool already has numbers in area codes .*: \+1\d{10}, \+1\d{10}, \+1\d{10} and more\. Claiming one is free/,
    );
    // One area code with more than three: the answer says how to list them all.
    const many = await searchFor({ query: '415' });
    expect(many.pool?.more).toBe(true);
    expect(renderers.search!(many as never)).toContain(
      'Claim with: switchboard claim +14155550101 (all of them: list pool 415)',
    );
    const sms = await searchFor({ query: '628', features: ['sms'] });
    expect(sms.pool).toBeNull();
    const tollFree = await searchFor({ query: '415', type: 'toll-free' });
    expect(tollFree.pool).toBeNull();
  });

  it('a pending purchase in that area code says so, with how to claim and withdraw; policy buys say nothing', async () => {
    await runCommand(deps, sync, ADMIN, {});
    const bought = (await runCommand(deps, buy, ALICE, { target: '415' })) as BuyResult;
    expect(bought.request.status).toBe('pending');
    expect(bought.pool?.numbers.map((n) => n.e164)).toEqual(['+14155550142']);
    const id = bought.request.id;
    expect(renderers.buy!(bought as never)).toContain(
      `The pool already has +14155550142 in area code 415: claiming it is free and needs no approval. To take it instead: switchboard claim +14155550142, then withdraw this request: switchboard deny ${id}`,
    );
    expect(JSON.stringify(requestedMessage(bought).blocks)).toContain(
      `To take it instead: \`/number claim +14155550142\`, then \`/number deny ${id}\` withdraws this request.`,
    );
    // Another area code: nothing to say.
    const elsewhere = (await runCommand(deps, buy, ALICE, { target: '604' })) as BuyResult;
    expect(elsewhere.pool).toBeNull();
    // Bought at once by policy: the money is spent, the answer does not offer a pool number.
    const auto = makeDeps(store, { policy: { autoApproveUnderMonthly: 5 } });
    const policyBuy = (await runCommand(auto, buy, ALICE, { target: '415' })) as BuyResult;
    expect(policyBuy.autoApproved).toBe(true);
    expect(policyBuy.pool).toBeNull();
  });
});
