/**
 * Contract: the real `telnyx` SDK, through our adapter, against Prism serving Telnyx's own spec
 * (trimmed, strict request bodies) behind the proxy that rejects undeclared query and form keys.
 * Prism answers with canned examples, so these tests check that every request is valid and every
 * answer is read, not data flow (that is telnyx-scenarios.test.ts).
 */
import { Telnyx } from 'telnyx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelnyxCarrier } from '../../src/carriers/telnyx-carrier.js';
import type { Carrier } from '../../src/core/ports.js';
import { requestsFor, startPrism, type PrismMock } from '../helpers/prism.js';

const SPEC = 'test/contracts/specs/telnyx.trimmed.json';
const KEY = 'KEY_TEST_FAKE_TELNYX';

let prism: PrismMock;
let carrier: Carrier;

beforeAll(async () => {
  prism = await startPrism(SPEC);
  carrier = createTelnyxCarrier({
    apiKey: KEY,
    baseUrl: prism.url, // Prism serves the paths without /v2
    connectionId: '1293384261075731499',
    messagingProfileId: 'abc85f64-5717-4562-b3fc-2c9600',
    pollIntervalMs: 5,
    maxPollMs: 30,
    timeoutMs: 5_000,
    retry: { maxRetries: 0 },
  });
});

afterAll(async () => {
  await prism?.close();
});

/** Every request the adapter made was valid: nothing rejected by the proxy or by Prism. */
function expectAllValid(operation: string, min = 1) {
  const seen = requestsFor(prism, operation);
  expect(seen.length).toBeGreaterThanOrEqual(min);
  for (const request of seen) {
    expect(request.rejected, `${operation} rejected keys`).toEqual([]);
    expect(request.violations, `${operation} violations`).toEqual([]);
    expect(request.status, `${operation} status`).toBeLessThan(300);
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
  }
  return seen;
}

describe('telnyx adapter against Prism (strict Telnyx spec)', () => {
  it('telnyx/prism.started: Prism came up quickly', () => {
    expect(prism.startupMs).toBeGreaterThan(0);
    console.info(`Prism (Telnyx) started in ${prism.startupMs} ms`);
  });

  it('telnyx/prism.search: every search filter is declared and the example offer is read', async () => {
    const offers = await carrier.search({
      country: 'US',
      numberType: 'local',
      areaCode: '970',
      locality: 'Denver',
      region: 'CO',
      contains: '555',
      features: ['voice', 'sms'],
      limit: 5,
    });
    const [request] = expectAllValid('GET /available_phone_numbers');
    expect(request!.query.map(([k]) => k).sort()).toEqual([
      'filter[administrative_area]',
      'filter[country_code]',
      'filter[features]',
      'filter[limit]',
      'filter[locality]',
      'filter[national_destination_code]',
      'filter[phone_number][contains]',
      'filter[phone_number_type]',
    ]);
    // The spec's example: +19705555098, 6.54 a month, 3.21 upfront.
    expect(offers).toEqual([
      expect.objectContaining({
        e164: '+19705555098',
        monthlyCost: 6.54,
        upfrontCost: 3.21,
        currency: 'USD',
      }),
    ]);
  });

  it('telnyx/prism.check: the exact-number search is valid', async () => {
    const offer = await carrier.check('+19705555098');
    expect(offer?.e164).toBe('+19705555098');
    const last = requestsFor(prism, 'GET /available_phone_numbers').at(-1)!;
    expect(Object.fromEntries(last.query)).toMatchObject({
      'filter[national_destination_code]': '970',
      'filter[phone_number][ends_with]': '5555098',
    });
    expectAllValid('GET /available_phone_numbers', 2);
  });

  it('telnyx/prism.hold: the reservation body is valid under the strict spec', async () => {
    const holdRef = await carrier.hold!('+19705555098', 'R-PRISM-HOLD');
    expect(typeof holdRef).toBe('string');
    const [request] = expectAllValid('POST /number_reservations');
    expect(request!.body).toEqual({
      customer_reference: 'R-PRISM-HOLD',
      phone_numbers: [{ phone_number: '+19705555098' }],
    });
  });

  it('telnyx/prism.order: the order body is valid; the example order is read and polled', async () => {
    const outcome = await carrier.order('+19705555098', { reference: 'R-PRISM-ORDER' });
    const [request] = expectAllValid('POST /number_orders');
    expect(request!.body).toEqual({
      phone_numbers: [{ phone_number: '+19705555098' }],
      customer_reference: 'R-PRISM-ORDER',
      connection_id: '1293384261075731499',
      messaging_profile_id: 'abc85f64-5717-4562-b3fc-2c9600',
    });
    // Prism's canned order never changes status: it is bought or stays pending, never unknown.
    expect(['bought', 'pending']).toContain(outcome.status);
  });

  it('telnyx/prism.lookup: by order id, then by our reference, then by number', async () => {
    const byId = await carrier.lookupOrder(
      'R-PRISM-ORDER',
      '+19705555098',
      '12ade33a-21c0-473b-b055-b3c836e1c292',
    );
    expect(['bought', 'pending', 'failed']).toContain(byId.status);
    expectAllValid('GET /number_orders/{number_order_id}');
    const byReference = await carrier.lookupOrder('R-PRISM-ORDER', '+19705555098', null);
    expect(byReference.status).not.toBeUndefined();
    const [list] = expectAllValid('GET /number_orders');
    expect(Object.fromEntries(list!.query)).toMatchObject({
      'filter[customer_reference]': 'R-PRISM-ORDER',
      'page[size]': '20',
    });
  });

  it('telnyx/prism.list-owned: pages of 250 up to meta.total_pages, all valid', async () => {
    const before = requestsFor(prism, 'GET /phone_numbers').length;
    const pages = [];
    for await (const page of carrier.listOwned()) pages.push(page);
    const seen = expectAllValid('GET /phone_numbers').slice(before);
    // The example meta says 3 pages; Prism repeats the same page each time.
    expect(seen.map((r) => Object.fromEntries(r.query)['page[number]']).sort()).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(seen.every((r) => Object.fromEntries(r.query)['page[size]'] === '250')).toBe(true);
    expect(pages.length).toBe(3);
    expect(pages[0]![0]).toMatchObject({
      e164: expect.stringMatching(/^\+\d+$/),
      carrierRef: expect.any(String),
    });
  });

  it('telnyx/prism.lookup-owned: one number by filter[phone_number], valid; others are not ours', async () => {
    const before = requestsFor(prism, 'GET /phone_numbers').length;
    const found = await carrier.lookupOwned!('+19705555098');
    expect(found).toMatchObject({ e164: '+19705555098', carrierRef: expect.any(String) });
    const [request] = expectAllValid('GET /phone_numbers').slice(before);
    expect(Object.fromEntries(request!.query)).toMatchObject({
      'filter[phone_number]': '+19705555098',
    });
    // Prism answers every lookup with the same example: another number is not in it.
    expect(await carrier.lookupOwned!('+14155550100')).toBeNull();
  });

  it('telnyx/prism.release: DELETE by id is valid', async () => {
    await carrier.release({
      e164: '+19705555098',
      carrierRef: '1293384261075731499',
      carrierAccount: null,
    });
    expectAllValid('DELETE /phone_numbers/{id}');
  });

  it('telnyx/prism.strict: an undeclared filter key or body field is rejected', async () => {
    const client = new Telnyx({ apiKey: KEY, baseURL: prism.url, maxRetries: 0, logLevel: 'off' });
    await expect(
      client.availablePhoneNumbers.list({
        filter: { country_code: 'US', area_code: '415' } as never,
      }),
    ).rejects.toMatchObject({ status: 422 });
    expect(prism.requests.at(-1)!.rejected).toEqual(['query:filter[area_code]']);
    await expect(
      client.numberOrders.create({
        phone_numbers: [{ phone_number: '+19705555098' }],
        reference: 'x',
      } as never),
    ).rejects.toMatchObject({ status: 422 });
    expect(JSON.stringify(prism.requests.at(-1)!.violations)).toContain('additionalProperties');
    const raw = await fetch(`${prism.url}/phone_numbers?page%5Bsize%5D=250&pagesize=9`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(raw.status).toBe(422);
    const tooBig = await fetch(`${prism.url}/phone_numbers?page%5Bsize%5D=251`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(tooBig.status).toBeGreaterThanOrEqual(400);
  });
});
