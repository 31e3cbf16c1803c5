/**
 * The Telnyx adapter against a stateful local Telnyx (test/helpers/telnyx-scenario-server.ts):
 * data flow and faults a canned mock cannot show. Test names are the scenario names.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTelnyxCarrier,
  type TelnyxCarrierOptions,
} from '../../src/carriers/telnyx-carrier.js';
import type { OwnedNumber, SearchCriteria } from '../../src/core/ports.js';
import { describeCarrierContract } from '../contracts/carrier-contract.js';
import {
  SCENARIO_API_KEY,
  startTelnyxScenarioServer,
  type TelnyxScenarioOptions,
  type TelnyxScenarioServer,
} from '../helpers/telnyx-scenario-server.js';

const FAST: Partial<TelnyxCarrierOptions> = {
  pollIntervalMs: 5,
  maxPollMs: 2_000,
  timeoutMs: 2_000,
  retry: { baseDelayMs: 5, maxDelayMs: 20 },
};

let servers: TelnyxScenarioServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function setup(
  scenario: TelnyxScenarioOptions = {},
  carrier: Partial<TelnyxCarrierOptions> = {},
) {
  const server = await startTelnyxScenarioServer(scenario);
  servers.push(server);
  const telnyx = createTelnyxCarrier({
    apiKey: SCENARIO_API_KEY,
    baseUrl: server.url,
    ...FAST,
    ...carrier,
  });
  return { server, telnyx };
}

const localSearch: SearchCriteria = {
  country: 'US',
  numberType: 'local',
  areaCode: '415',
  features: [],
  limit: 5,
};
const posts = (server: TelnyxScenarioServer, path: string) =>
  server.requests.filter((r) => r.method === 'POST' && r.path === path);

describeCarrierContract('telnyx (scenario server)', async () => {
  const server = await startTelnyxScenarioServer();
  const carrier = createTelnyxCarrier({ apiKey: SCENARIO_API_KEY, baseUrl: server.url, ...FAST });
  return {
    carrier,
    areaCode: '415',
    country: 'US',
    takeElsewhere: async (e164) => server.takeElsewhere(e164),
    close: () => server.close(),
  };
});

describe('telnyx adapter scenarios', () => {
  it('telnyx/search.filters: sends the documented filters and maps price, region and features', async () => {
    const { server, telnyx } = await setup();
    const offers = await telnyx.search({
      country: 'US',
      numberType: 'local',
      areaCode: '415',
      region: 'CA',
      locality: 'San Francisco',
      contains: '555',
      features: ['voice', 'sms'],
      limit: 3,
    });
    const query = Object.fromEntries(server.requests[0]!.query);
    expect(query).toEqual({
      'filter[country_code]': 'US',
      'filter[phone_number_type]': 'local',
      'filter[limit]': '3',
      'filter[national_destination_code]': '415',
      'filter[locality]': 'San Francisco',
      'filter[administrative_area]': 'CA',
      'filter[phone_number][contains]': '555',
      'filter[features]': 'voice,sms',
    });
    expect(server.requests[0]!.authorization).toBe(`Bearer ${SCENARIO_API_KEY}`);
    expect(offers).toHaveLength(3);
    expect(offers[0]).toEqual({
      e164: '+14155550100',
      carrier: 'telnyx',
      country: 'US',
      region: 'CA',
      locality: 'San Francisco',
      numberType: 'local',
      features: ['voice', 'sms'],
      monthlyCost: 1,
      upfrontCost: 1,
      currency: 'USD',
    });
    for (const offer of offers) expect(offer.features).toContain('sms');
  });

  it('telnyx/search.toll-free: asks for toll_free and reports toll-free offers', async () => {
    const { server, telnyx } = await setup();
    const offers = await telnyx.search({
      country: 'US',
      numberType: 'toll-free',
      features: [],
      limit: 2,
    });
    expect(Object.fromEntries(server.requests[0]!.query)['filter[phone_number_type]']).toBe(
      'toll_free',
    );
    expect(offers.map((o) => o.numberType)).toEqual(['toll-free', 'toll-free']);
    expect(offers[0]!.e164).toMatch(/^\+1888/);
  });

  it('telnyx/search.429-retry-after: waits as told by Retry-After, then succeeds', async () => {
    const { server, telnyx } = await setup();
    server.fault({
      method: 'GET',
      path: '/available_phone_numbers',
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '1' },
      body: {
        errors: [{ code: '10011', title: 'Too many requests', detail: 'Rate limit exceeded.' }],
      },
    });
    const started = Date.now();
    const offers = await telnyx.search(localSearch);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(offers.length).toBeGreaterThan(0);
    expect(server.requests.filter((r) => r.path === '/available_phone_numbers')).toHaveLength(2);
  });

  it('telnyx/order.429: a rate-limited order was never processed, so it is retried once allowed', async () => {
    const { server, telnyx } = await setup();
    const [offer] = await telnyx.search(localSearch);
    server.fault({
      method: 'POST',
      path: '/number_orders',
      kind: 'status',
      status: 429,
      headers: { 'x-ratelimit-reset': '0' },
      body: {
        errors: [{ code: '10011', title: 'Too many requests', detail: 'Rate limit exceeded.' }],
      },
    });
    const outcome = await telnyx.order(offer!.e164, { reference: 'R-429' });
    expect(outcome.status).toBe('bought');
    expect(posts(server, '/number_orders')).toHaveLength(2);
    expect(server.orders.size).toBe(1);
  });

  it('telnyx/search.429-exhausted: gives up with UNAVAILABLE carrying the vendor code', async () => {
    const { server, telnyx } = await setup({}, { retry: { maxRetries: 1, baseDelayMs: 1 } });
    const body = {
      errors: [{ code: '10011', title: 'Too many requests', detail: 'Rate limit exceeded.' }],
    };
    server.fault({
      method: 'GET',
      path: '/available_phone_numbers',
      kind: 'status',
      status: 429,
      body,
      times: 5,
    });
    await expect(telnyx.search(localSearch)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      vendorCode: '10011',
      message: expect.stringContaining('Rate limit exceeded.'),
    });
    expect(server.requests).toHaveLength(2);
  });

  it('telnyx/search.timeout: a read that times out is retried', async () => {
    const { server, telnyx } = await setup({}, { timeoutMs: 200 });
    server.fault({ method: 'GET', path: '/available_phone_numbers', kind: 'hang' });
    const offers = await telnyx.search(localSearch);
    expect(offers.length).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(2);
  });

  it('telnyx/search.malformed: an unreadable answer is UNAVAILABLE, not a crash', async () => {
    const { server, telnyx } = await setup();
    server.fault({ method: 'GET', path: '/available_phone_numbers', kind: 'malformed' });
    await expect(telnyx.search(localSearch)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('telnyx/order.success: sends our reference, connection and messaging profile; records the account id', async () => {
    const { server, telnyx } = await setup(
      {},
      { connectionId: 'conn-1', messagingProfileId: 'mp-9' },
    );
    const [offer] = await telnyx.search(localSearch);
    const outcome = await telnyx.order(offer!.e164, { reference: 'R-OK' });
    expect(posts(server, '/number_orders')[0]!.body).toEqual({
      phone_numbers: [{ phone_number: offer!.e164 }],
      customer_reference: 'R-OK',
      connection_id: 'conn-1',
      messaging_profile_id: 'mp-9',
    });
    const account = [...server.owned.values()].find((n) => n.phone_number === offer!.e164)!;
    expect(outcome).toMatchObject({
      status: 'bought',
      number: {
        e164: offer!.e164,
        carrierRef: account.id,
        monthlyCost: 1,
        locality: 'San Francisco',
      },
    });
  });

  it('telnyx/order.pending-then-success: polls a pending order until it succeeds', async () => {
    const { server, telnyx } = await setup({ pendingPolls: 2 });
    const [offer] = await telnyx.search(localSearch);
    const outcome = await telnyx.order(offer!.e164, { reference: 'R-PEND' });
    expect(outcome.status).toBe('bought');
    const polls = server.requests.filter(
      (r) => r.method === 'GET' && r.path.startsWith('/number_orders/'),
    );
    expect(polls).toHaveLength(3);
    expect(posts(server, '/number_orders')).toHaveLength(1);
  });

  it('telnyx/order.pending-then-failure: a failed order with the number still offered is a refusal', async () => {
    const { server, telnyx } = await setup({ pendingPolls: 1, settlesAs: 'failure' });
    const [offer] = await telnyx.search(localSearch);
    const error = await telnyx.order(offer!.e164, { reference: 'R-FAIL' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'UPSTREAM',
      message: expect.stringMatching(/order ord-\d+ failed/),
    });
    expect(await telnyx.lookupOrder('R-FAIL', offer!.e164, null)).toMatchObject({
      status: 'failed',
    });
    expect([...server.owned.values()].map((n) => n.phone_number)).not.toContain(offer!.e164);
  });

  it('telnyx/order.pending-beyond-bound: answers pending, and a later lookup finds it bought', async () => {
    const { server, telnyx } = await setup({ pendingPolls: 1000 }, { maxPollMs: 60 });
    const [offer] = await telnyx.search(localSearch);
    const outcome = await telnyx.order(offer!.e164, { reference: 'R-SLOW' });
    expect(outcome.status).toBe('pending');
    if (outcome.status !== 'pending') return;
    expect(await telnyx.lookupOrder('R-SLOW', offer!.e164, outcome.orderRef)).toEqual({
      status: 'pending',
      orderRef: outcome.orderRef,
    });
    server.orders.get(outcome.orderRef)!.pollsLeft = 0;
    expect(await telnyx.lookupOrder('R-SLOW', offer!.e164, outcome.orderRef)).toMatchObject({
      status: 'bought',
      orderRef: outcome.orderRef,
      number: { e164: offer!.e164 },
    });
  });

  it('telnyx/order.taken: a number gone between search and order is taken, and never retried', async () => {
    const { server, telnyx } = await setup();
    const [offer] = await telnyx.search(localSearch);
    server.takeElsewhere(offer!.e164);
    const outcome = await telnyx.order(offer!.e164, { reference: 'R-TAKEN' });
    expect(outcome).toMatchObject({
      status: 'taken',
      message: expect.stringContaining('no longer available'),
    });
    expect(posts(server, '/number_orders')).toHaveLength(1);
  });

  it('telnyx/order.5xx-before-acting: never retried blind; the lookup then finds no order', async () => {
    const { server, telnyx } = await setup();
    const [offer] = await telnyx.search(localSearch);
    server.fault({ method: 'POST', path: '/number_orders', kind: 'status', status: 503 });
    await expect(telnyx.order(offer!.e164, { reference: 'R-503' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(posts(server, '/number_orders')).toHaveLength(1);
    expect(await telnyx.lookupOrder('R-503', offer!.e164, null)).toEqual({ status: 'not-found' });
  });

  it('telnyx/order.answer-lost: a 500 after Telnyx acted is UNAVAILABLE; the lookup by reference finds it bought', async () => {
    const { server, telnyx } = await setup();
    const [offer] = await telnyx.search(localSearch);
    server.fault({
      method: 'POST',
      path: '/number_orders',
      kind: 'status',
      status: 500,
      afterActing: true,
    });
    await expect(telnyx.order(offer!.e164, { reference: 'R-LOST' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(posts(server, '/number_orders')).toHaveLength(1);
    const lookup = await telnyx.lookupOrder('R-LOST', offer!.e164, null);
    expect(lookup).toMatchObject({ status: 'bought', number: { e164: offer!.e164 } });
    const query = server.requests.find(
      (r) => r.method === 'GET' && r.path === '/number_orders',
    )!.query;
    expect(Object.fromEntries(query)['filter[customer_reference]']).toBe('R-LOST');
  });

  it('telnyx/order.malformed: an unreadable order answer is UNAVAILABLE (the order may exist)', async () => {
    const { server, telnyx } = await setup();
    const [offer] = await telnyx.search(localSearch);
    server.fault({ method: 'POST', path: '/number_orders', kind: 'malformed', afterActing: true });
    await expect(telnyx.order(offer!.e164, { reference: 'R-MAL' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(await telnyx.lookupOrder('R-MAL', offer!.e164, null)).toMatchObject({
      status: 'bought',
    });
  });

  it('telnyx/order.timeout: a timed-out order is not retried', async () => {
    const { server, telnyx } = await setup({}, { timeoutMs: 200 });
    const [offer] = await telnyx.search(localSearch);
    server.fault({ method: 'POST', path: '/number_orders', kind: 'hang', afterActing: true });
    await expect(telnyx.order(offer!.e164, { reference: 'R-TIME' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('timeout'),
    });
    expect(posts(server, '/number_orders')).toHaveLength(1);
    expect(await telnyx.lookupOrder('R-TIME', offer!.e164, null)).toMatchObject({
      status: 'bought',
    });
  });

  it('telnyx/hold: reserves the number under our reference; a number held by someone else is not held', async () => {
    const { server, telnyx } = await setup();
    const [first, second] = await telnyx.search(localSearch);
    const holdRef = await telnyx.hold!(first!.e164, 'R-HOLD');
    expect(holdRef).toMatch(/^res-/);
    expect(server.reservations.get(holdRef!)).toMatchObject({
      phone_number: first!.e164,
      customer_reference: 'R-HOLD',
    });
    server.reservations.set('res-other', {
      id: 'res-other',
      phone_number: second!.e164,
      customer_reference: 'SOMEONE',
    });
    expect(await telnyx.hold!(second!.e164, 'R-HOLD2')).toBeNull();
    await expect(telnyx.releaseHold!(holdRef!)).resolves.toBeUndefined();
  });

  it('telnyx/list.paging-to-last-page: 250 a page, every page once, bounded concurrency', async () => {
    const { server, telnyx } = await setup(
      { ownedCount: 620, latencyMs: 20 },
      { pageConcurrency: 2 },
    );
    const sizes: number[] = [];
    const all: OwnedNumber[] = [];
    for await (const page of telnyx.listOwned()) {
      sizes.push(page.length);
      all.push(...page);
    }
    expect(sizes).toEqual([250, 250, 120]);
    expect(new Set(all.map((n) => n.e164)).size).toBe(620);
    const pages = server.requests
      .filter((r) => r.path === '/phone_numbers')
      .map((r) => Object.fromEntries(r.query));
    expect(pages.map((q) => q['page[number]']).sort()).toEqual(['1', '2', '3']);
    expect(pages.every((q) => q['page[size]'] === '250')).toBe(true);
    expect(server.maxInFlight('/phone_numbers')).toBeLessThanOrEqual(2);
    expect(all[0]).toMatchObject({
      carrierRef: expect.any(String),
      numberType: 'local',
      features: ['voice', 'sms'],
    });
  });

  it('telnyx/list.after-change: a second read sees a released number gone (pages are not served stale)', async () => {
    const { telnyx } = await setup({ ownedCount: 300 });
    const read = async () => {
      const all: OwnedNumber[] = [];
      for await (const page of telnyx.listOwned()) all.push(...page);
      return all.map((n) => n.e164);
    };
    const before = await read();
    expect(before).toHaveLength(300);
    await telnyx.release({ e164: before[10]!, carrierRef: null, carrierAccount: null });
    const after = await read();
    expect(after).toHaveLength(299);
    expect(after).not.toContain(before[10]);
  });

  it('telnyx/list.5xx: a failed page read is retried', async () => {
    const { server, telnyx } = await setup();
    server.fault({ method: 'GET', path: '/phone_numbers', kind: 'status', status: 502 });
    const pages: OwnedNumber[][] = [];
    for await (const page of telnyx.listOwned()) pages.push(page);
    expect(pages.flat()).toHaveLength(3);
    expect(server.requests).toHaveLength(2);
  });

  it('telnyx/release.by-number: finds the account id when we have none, then deletes it', async () => {
    const { server, telnyx } = await setup();
    const [victim] = [...server.owned.values()];
    await telnyx.release({ e164: victim!.phone_number, carrierRef: null, carrierAccount: null });
    expect(server.owned.has(victim!.id)).toBe(false);
    await expect(
      telnyx.release({ e164: victim!.phone_number, carrierRef: victim!.id, carrierAccount: null }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('telnyx/release.deletion-lock: CONFLICT naming the fix', async () => {
    const { server, telnyx } = await setup();
    const [locked] = [...server.owned.values()];
    locked!.deletion_lock_enabled = true;
    for (const carrierRef of [locked!.id, null]) {
      const error = await telnyx
        .release({ e164: locked!.phone_number, carrierRef, carrierAccount: null })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'CONFLICT',
        message: expect.stringContaining('deletion lock'),
      });
      expect((error as Error).message).toContain('Telnyx portal');
    }
    expect(server.owned.has(locked!.id)).toBe(true);
  });

  it('telnyx/errors.auth: a refused key is UPSTREAM with the vendor message, and the key never leaks', async () => {
    const server = await startTelnyxScenarioServer({ apiKey: 'KEY_TEST_FAKE_TELNYX_OTHER' });
    servers.push(server);
    const telnyx = createTelnyxCarrier({ apiKey: SCENARIO_API_KEY, baseUrl: server.url, ...FAST });
    const error = await telnyx.search(localSearch).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'UPSTREAM',
      vendorCode: '10009',
      message: expect.stringContaining('The API key you provided is invalid.'),
    });
    expect(inspect(error, { depth: 10 })).not.toContain(SCENARIO_API_KEY);
    expect(JSON.stringify(error)).not.toContain(SCENARIO_API_KEY);
  });

  it('telnyx/base-url.v2: a base URL with /v2 is used verbatim', async () => {
    const server = await startTelnyxScenarioServer();
    servers.push(server);
    const seen: string[] = [];
    const telnyx = createTelnyxCarrier({
      apiKey: SCENARIO_API_KEY,
      baseUrl: `${server.url}/v2`,
      fetch: (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      },
      ...FAST,
    });
    expect((await telnyx.search(localSearch)).length).toBeGreaterThan(0);
    expect(seen[0]).toMatch(new RegExp(`^${server.url}/v2/available_phone_numbers\\?`));
  });
});
