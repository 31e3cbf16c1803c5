import { afterEach, describe, expect, it } from 'vitest';
import { createTwilioCarrier } from '../../src/carriers/twilio-carrier.js';
import type { TwilioCarrier, TwilioCarrierOptions } from '../../src/carriers/twilio-carrier.js';
import type { OwnedNumber } from '../../src/core/ports.js';
import { describeCarrierContract } from '../contracts/carrier-contract.js';
import {
  TWILIO_TEST_SID,
  TWILIO_TEST_SUBACCOUNT,
  TWILIO_TEST_TOKEN,
  startTwilioScenario,
} from '../helpers/twilio-scenario-server.js';
import type {
  TwilioScenarioOptions,
  TwilioScenarioServer,
} from '../helpers/twilio-scenario-server.js';

const TRUNK = `TK${'a'.repeat(32)}`;

describeCarrierContract('twilio (scenario server)', async () => {
  const server = await startTwilioScenario();
  const carrier = createTwilioCarrier({
    accountSid: TWILIO_TEST_SID,
    authToken: TWILIO_TEST_TOKEN,
    baseUrl: server.url,
    pageSize: 2,
  });
  return {
    carrier,
    areaCode: '415',
    country: 'US',
    takeElsewhere: async (e164) => server.takeElsewhere(e164),
    close: () => server.close(),
  };
});

describe('twilio carrier (scenario server)', () => {
  let server: TwilioScenarioServer;
  let slept: number[];

  async function setup(
    scenario: TwilioScenarioOptions = {},
    extra: Partial<TwilioCarrierOptions> = {},
  ): Promise<TwilioCarrier> {
    server = await startTwilioScenario(scenario);
    slept = [];
    return createTwilioCarrier({
      accountSid: TWILIO_TEST_SID,
      authToken: TWILIO_TEST_TOKEN,
      baseUrl: server.url,
      trunkSid: TRUNK,
      timeoutMs: 400,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
      sleep: async (ms) => void slept.push(ms),
      ...extra,
    });
  }

  afterEach(async () => {
    await server?.close();
  });

  async function collectPages(carrier: TwilioCarrier): Promise<OwnedNumber[][]> {
    const pages: OwnedNumber[][] = [];
    for await (const page of carrier.listOwned()) pages.push(page);
    return pages;
  }

  describe('base URL', () => {
    it('sends every call, the Pricing API included, to TWILIO_BASE_URL over plain http', async () => {
      const carrier = await setup();
      const offers = await carrier.search({
        country: 'US',
        numberType: 'local',
        areaCode: '415',
        features: [],
        limit: 3,
      });
      expect(offers).toHaveLength(3);
      expect(server.count('GET /v1/PhoneNumbers/Countries/US')).toBe(1);
      expect(
        server.count(
          'GET /2010-04-01/Accounts/' + TWILIO_TEST_SID + '/AvailablePhoneNumbers/US/Local.json',
        ),
      ).toBe(1);
    });

    it('keeps a path prefix of the base URL in front of Twilio paths', async () => {
      server = await startTwilioScenario();
      const prefixed = createTwilioCarrier({
        accountSid: TWILIO_TEST_SID,
        authToken: TWILIO_TEST_TOKEN,
        baseUrl: `${server.url}/proxy/`,
        retry: { maxRetries: 0 },
      });
      // The scenario server serves no /proxy: the 404 shows where the requests went.
      await expect(
        prefixed.search({
          country: 'US',
          numberType: 'local',
          areaCode: '415',
          features: [],
          limit: 1,
        }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND', vendorCode: '20404' });
      expect(server.requests.map((r) => r.path).sort()).toEqual([
        `/proxy/2010-04-01/Accounts/${TWILIO_TEST_SID}/AvailablePhoneNumbers/US/Local.json`,
        '/proxy/v1/PhoneNumbers/Countries/US',
      ]);
    });
  });

  describe('search and prices', () => {
    it('maps criteria to Twilio parameters and prices offers from the Pricing API', async () => {
      const carrier = await setup();
      const offers = await carrier.search({
        country: 'US',
        numberType: 'local',
        areaCode: '415',
        region: 'CA',
        locality: 'San Francisco',
        contains: '555',
        features: ['voice', 'sms', 'mms'],
        limit: 5,
      });
      const search = server.requests.find((r) => r.path.endsWith('/Local.json'))!;
      expect(search.query).toEqual({
        PageSize: '5',
        AreaCode: '415',
        Contains: '555',
        InRegion: 'CA',
        InLocality: 'San Francisco',
        VoiceEnabled: 'true',
        SmsEnabled: 'true',
        MmsEnabled: 'true',
      });
      expect(offers.length).toBeGreaterThan(0);
      for (const offer of offers) {
        expect(offer).toMatchObject({
          carrier: 'twilio',
          country: 'US',
          region: 'CA',
          locality: 'San Francisco',
          numberType: 'local',
          monthlyCost: 1.15,
          upfrontCost: 1.15,
          currency: 'USD',
        });
        expect(offer.features).toEqual(['voice', 'sms', 'mms']);
      }
    });

    it('searches toll-free numbers at the toll-free price, and caches prices per country', async () => {
      const carrier = await setup();
      const [offer] = await carrier.search({
        country: 'US',
        numberType: 'toll-free',
        features: [],
        limit: 1,
      });
      expect(offer).toMatchObject({
        e164: '+18885550100',
        numberType: 'toll-free',
        monthlyCost: 2.15,
      });
      await carrier.search({
        country: 'US',
        numberType: 'local',
        areaCode: '212',
        features: [],
        limit: 1,
      });
      expect(server.count('/v1/PhoneNumbers/Countries/US')).toBe(1);
      expect(server.count('/TollFree.json')).toBe(1);
    });

    it('refuses to quote a number type the Pricing API has no price for', async () => {
      const carrier = await setup({ prices: { US: { local: '1.15' } } });
      await expect(
        carrier.search({ country: 'US', numberType: 'toll-free', features: [], limit: 1 }),
      ).rejects.toMatchObject({ code: 'UPSTREAM' });
    });

    it('checks one exact number with Contains, and says null once it is gone', async () => {
      const carrier = await setup();
      expect(await carrier.check('+14155551003')).toMatchObject({
        e164: '+14155551003',
        monthlyCost: 1.15,
      });
      expect(
        server.requests.at(-1)!.query.Contains ??
          server.requests.find((r) => r.query.Contains)!.query.Contains,
      ).toBe('+14155551003');
      server.takeElsewhere('+14155551003');
      expect(await carrier.check('+14155551003')).toBeNull();
    });
  });

  describe('faults', () => {
    it('waits out a 429 (error 20429) for as long as Retry-After says, then succeeds', async () => {
      const carrier = await setup();
      server.failNext('GET /Local.json', { status: 429, code: 20429, retryAfter: 2 });
      const offers = await carrier.search({
        country: 'US',
        numberType: 'local',
        areaCode: '415',
        features: [],
        limit: 2,
      });
      expect(offers).toHaveLength(2);
      expect(slept).toEqual([2000]);
      expect(server.count('/Local.json')).toBe(2);
    });

    it('retries a purchase POST after a 429 (never processed) and buys exactly once', async () => {
      const carrier = await setup();
      server.failNext('POST /IncomingPhoneNumbers.json', { status: 429, retryAfter: 1 });
      const outcome = await carrier.order('+14155551000', { reference: 'R-429' });
      expect(outcome.status).toBe('bought');
      expect(server.count('POST')).toBe(2);
      expect(
        [...server.owned.values()].filter((n) => n.phoneNumber === '+14155551000'),
      ).toHaveLength(1);
    });

    it('gives up on a 429 whose Retry-After is too long, as a refusal of the purchase (nothing bought)', async () => {
      const carrier = await setup();
      server.failNext('POST /IncomingPhoneNumbers.json', { status: 429, retryAfter: 3600 });
      await expect(
        carrier.order('+14155551000', { reference: 'R-429-LONG' }),
      ).rejects.toMatchObject({ code: 'UPSTREAM', vendorCode: '20429' });
      expect(server.count('POST')).toBe(1);
    });

    it('never repeats a purchase POST after a 500: the outcome is unknown, and the lookup settles it', async () => {
      const carrier = await setup();
      server.failNext('POST /IncomingPhoneNumbers.json', { status: 500, afterCommit: true });
      await expect(carrier.order('+14155551001', { reference: 'R-500' })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      expect(server.count('POST')).toBe(1);
      expect(await carrier.lookupOrder('R-500', '+14155551001', null)).toMatchObject({
        status: 'bought',
        number: { e164: '+14155551001' },
      });
    });

    it('never repeats a purchase POST that timed out; the lookup finds what Twilio did', async () => {
      const carrier = await setup();
      server.failNext('POST /IncomingPhoneNumbers.json', { hang: true, afterCommit: true });
      await expect(carrier.order('+14155551002', { reference: 'R-TIMEOUT' })).rejects.toMatchObject(
        { code: 'UNAVAILABLE', message: expect.stringMatching(/timeout/) },
      );
      expect(server.count('POST')).toBe(1);
      expect(await carrier.lookupOrder('R-TIMEOUT', '+14155551002', null)).toMatchObject({
        status: 'bought',
      });
    });

    it('retries a GET that timed out or met a 503', async () => {
      const carrier = await setup();
      server.failNext('GET /Local.json', { hang: true });
      server.failNext('GET /Countries/US', { status: 503 });
      const offers = await carrier.search({
        country: 'US',
        numberType: 'local',
        areaCode: '212',
        features: [],
        limit: 1,
      });
      expect(offers).toHaveLength(1);
      expect(server.count('/Local.json')).toBe(2);
      expect(server.count('/Countries/US')).toBe(2);
    });

    it('retries a DELETE whose answer was lost; the 404 that follows means it is done', async () => {
      const carrier = await setup();
      const [victim] = (await collectPages(carrier)).flat();
      server.failNext('DELETE .json', { status: 502, afterCommit: true });
      await carrier.release({
        e164: victim!.e164,
        carrierRef: victim!.carrierRef,
        carrierAccount: victim!.carrierAccount,
      });
      expect(server.count('DELETE')).toBe(2);
      expect([...server.owned.values()].map((n) => n.phoneNumber)).not.toContain(victim!.e164);
    });

    it('turns a malformed answer into UPSTREAM for a read, and UNAVAILABLE (may have happened) for a purchase', async () => {
      const carrier = await setup();
      server.failNext('GET /Local.json', { malformed: true, times: 4 });
      await expect(
        carrier.search({
          country: 'US',
          numberType: 'local',
          areaCode: '415',
          features: [],
          limit: 1,
        }),
      ).rejects.toMatchObject({ code: 'UPSTREAM', message: expect.stringMatching(/malformed/) });
      server.failNext('POST /IncomingPhoneNumbers.json', { malformed: true, afterCommit: true });
      await expect(
        carrier.order('+14155551004', { reference: 'R-MALFORMED' }),
      ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(await carrier.lookupOrder('R-MALFORMED', '+14155551004', null)).toMatchObject({
        status: 'bought',
      });
    });

    it('an unreadable ownership check says nothing was ordered, with no stop before the semicolon', async () => {
      const carrier = await setup();
      server.failNext('GET /IncomingPhoneNumbers.json', { malformed: true, times: 4 });
      const error = await carrier
        .order('+14155551004', { reference: 'R-OWNED-MALFORMED' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'UPSTREAM',
        message:
          'Twilio ownership check: the answer could not be read (malformed response); nothing was ordered.',
      });
      expect(server.count('GET /2010-04-01/Accounts/')).toBeGreaterThan(0);
      expect(server.count('POST ')).toBe(0);
    });

    it("carries Twilio's message and code, never the credentials", async () => {
      server = await startTwilioScenario();
      const secret = 'TOKEN_TEST_FAKE_TWILIO_WRONG';
      const carrier = createTwilioCarrier({
        accountSid: TWILIO_TEST_SID,
        authToken: secret,
        baseUrl: server.url,
      });
      const error = await carrier
        .search({ country: 'US', numberType: 'local', areaCode: '415', features: [], limit: 1 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'UPSTREAM',
        vendorCode: '20003',
        message: expect.stringContaining('Authenticate'),
      });
      const seen =
        JSON.stringify(error) +
        String((error as Error).stack) +
        JSON.stringify((error as Error).cause ?? null);
      expect(seen).not.toContain(secret);
      expect(seen).not.toContain(Buffer.from(`${TWILIO_TEST_SID}:${secret}`).toString('base64'));
    });

    it('keeps credentials out of a network failure', async () => {
      server = await startTwilioScenario();
      server.failNext('GET /Local.json', { hang: true, times: 10 });
      const carrier = createTwilioCarrier({
        accountSid: TWILIO_TEST_SID,
        authToken: TWILIO_TEST_TOKEN,
        baseUrl: server.url,
        timeoutMs: 200,
        retry: { maxRetries: 1, baseDelayMs: 1 },
      });
      const error = await carrier
        .search({ country: 'US', numberType: 'local', areaCode: '415', features: [], limit: 1 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE' });
      const seen =
        JSON.stringify(error) + String((error as Error).stack) + String((error as Error).cause);
      expect(seen).not.toContain(TWILIO_TEST_TOKEN);
      expect(seen).not.toContain('Basic ');
    });
  });

  describe('buying', () => {
    it('buys by PhoneNumber (never AreaCode), with our reference as FriendlyName and the trunk', async () => {
      const carrier = await setup();
      const outcome = await carrier.order('+14155551005', { reference: 'R-BUY' });
      expect(outcome).toMatchObject({
        status: 'bought',
        number: {
          e164: '+14155551005',
          carrier: 'twilio',
          carrierAccount: null,
          monthlyCost: 1.15,
        },
      });
      const post = server.requests.find((r) => r.method === 'POST')!;
      expect(post.form).toEqual({
        PhoneNumber: '+14155551005',
        FriendlyName: 'R-BUY',
        TrunkSid: TRUNK,
      });
      if (outcome.status === 'bought')
        expect(outcome.number.carrierRef).toMatch(/^PN[0-9a-f]{32}$/);
    });

    it('reports a number someone else bought as taken (Twilio 21422)', async () => {
      const carrier = await setup();
      server.takeElsewhere('+14155551006');
      expect(await carrier.order('+14155551006', { reference: 'R-TAKEN' })).toMatchObject({
        status: 'taken',
      });
    });

    it('never takes a number the account already owns for a new purchase (checked first: no POST)', async () => {
      const carrier = await setup();
      const [owned] = (await collectPages(carrier)).flat();
      await expect(carrier.order(owned!.e164, { reference: 'R-OWNED' })).rejects.toMatchObject({
        code: 'UPSTREAM',
        vendorCode: 'ALREADY_OWNED',
      });
      expect(server.count('POST')).toBe(0);
    });

    it('sees through the 201 in-use answer when the ownership check missed it', async () => {
      const carrier = await setup();
      const [owned] = (await collectPages(carrier)).flat();
      server.lagOwnedLookups = true;
      await expect(carrier.order(owned!.e164, { reference: 'R-INUSE' })).rejects.toMatchObject({
        code: 'UPSTREAM',
        vendorCode: 'ALREADY_OWNED',
      });
      expect(server.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([
        201,
      ]);
    });

    it('answers a repeated order with the same reference with the number it bought, without buying again', async () => {
      const carrier = await setup();
      const first = await carrier.order('+14155551007', { reference: 'R-TWICE' });
      const second = await carrier.order('+14155551007', { reference: 'R-TWICE' });
      expect(second).toEqual(first);
      expect(server.count('POST')).toBe(1);
    });

    it('reports not-found for a reference and number it never saw, and failed for a number owned under another name', async () => {
      const carrier = await setup();
      expect(await carrier.lookupOrder('R-NONE', '+14155551007', null)).toEqual({
        status: 'not-found',
      });
      const [owned] = (await collectPages(carrier)).flat();
      expect(await carrier.lookupOrder('R-NONE', owned!.e164, null)).toMatchObject({
        status: 'failed',
      });
    });
  });

  describe('owned numbers and subaccounts', () => {
    it('pages to the last page through next_page_uri, main account then subaccounts, closed ones skipped', async () => {
      const carrier = await setup({ owned: 5, subaccountOwned: 3 }, { pageSize: 2 });
      const pages = await collectPages(carrier);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1, 2, 1]);
      const all = pages.flat();
      expect(all.filter((n) => n.carrierAccount === null)).toHaveLength(5);
      expect(all.filter((n) => n.carrierAccount === TWILIO_TEST_SUBACCOUNT)).toHaveLength(3);
      for (const n of all) {
        expect(n).toMatchObject({
          country: 'US',
          numberType: 'local',
          monthlyCost: 1.15,
          currency: 'USD',
        });
        expect(n.carrierRef).toMatch(/^PN/);
      }
      const lists = server.requests.filter(
        (r) => r.path === `/2010-04-01/Accounts/${TWILIO_TEST_SID}/IncomingPhoneNumbers.json`,
      );
      expect(lists.map((r) => r.query.Page ?? '0')).toEqual(['0', '1', '2']);
      expect(lists[1]!.query.PageToken).toBeTruthy();
      expect(server.count(`/Accounts/AC${'c'.repeat(32)}/`)).toBe(0);
    });

    it('lists accounts and creates a subaccount without handing back its auth token', async () => {
      const carrier = await setup();
      const accounts = await carrier.listAccounts();
      expect(accounts).toContainEqual({
        sid: TWILIO_TEST_SUBACCOUNT,
        name: 'Support team',
        status: 'active',
      });
      const created = await carrier.createAccount('Sales team');
      expect(created).toEqual({
        sid: expect.stringMatching(/^AC[0-9a-f]{32}$/),
        name: 'Sales team',
        status: 'active',
      });
      expect(JSON.stringify(created)).not.toContain('SUBTOKEN');
      expect(server.requests.find((r) => r.method === 'POST')!.form).toEqual({
        FriendlyName: 'Sales team',
      });
      expect((await carrier.listAccounts()).map((a) => a.name)).toContain('Sales team');
    });

    it('buys into a subaccount, finds it there by reference, lists it there and releases it there', async () => {
      const carrier = await setup();
      const outcome = await carrier.order('+12125552001', {
        reference: 'R-SUB',
        account: TWILIO_TEST_SUBACCOUNT,
      });
      expect(outcome).toMatchObject({
        status: 'bought',
        number: { carrierAccount: TWILIO_TEST_SUBACCOUNT },
      });
      expect(server.requests.find((r) => r.method === 'POST')!.path).toBe(
        `/2010-04-01/Accounts/${TWILIO_TEST_SUBACCOUNT}/IncomingPhoneNumbers.json`,
      );
      expect(await carrier.lookupOrder('R-SUB', '+12125552001', null)).toMatchObject({
        status: 'bought',
        number: { carrierAccount: TWILIO_TEST_SUBACCOUNT },
      });
      const listed = (await collectPages(carrier)).flat().find((n) => n.e164 === '+12125552001');
      expect(listed).toMatchObject({ carrierAccount: TWILIO_TEST_SUBACCOUNT });
      await carrier.release({
        e164: listed!.e164,
        carrierRef: listed!.carrierRef,
        carrierAccount: listed!.carrierAccount,
      });
      expect(server.requests.find((r) => r.method === 'DELETE')!.path).toContain(
        `/Accounts/${TWILIO_TEST_SUBACCOUNT}/`,
      );
      expect((await collectPages(carrier)).flat().map((n) => n.e164)).not.toContain('+12125552001');
    });

    it('releases a number with no recorded SID by looking it up, and says NOT_FOUND for one not in the account', async () => {
      const carrier = await setup();
      const [owned] = (await collectPages(carrier)).flat();
      await carrier.release({ e164: owned!.e164, carrierRef: null, carrierAccount: null });
      await expect(
        carrier.release({ e164: owned!.e164, carrierRef: owned!.carrierRef, carrierAccount: null }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND', vendorCode: '20404' });
    });
  });

  it('authenticates with an API key and secret, on the account named by TWILIO_ACCOUNT_SID', async () => {
    const key = { sid: `SK${'1'.repeat(32)}`, secret: 'SECRET_TEST_FAKE_TWILIO' };
    server = await startTwilioScenario({ apiKey: key });
    const carrier = createTwilioCarrier({
      accountSid: TWILIO_TEST_SID,
      apiKey: key.sid,
      apiSecret: key.secret,
      baseUrl: server.url,
    });
    const offers = await carrier.search({
      country: 'US',
      numberType: 'local',
      areaCode: '415',
      features: [],
      limit: 1,
    });
    expect(offers).toHaveLength(1);
    expect(server.requests.every((r) => r.status === 200)).toBe(true);
    expect(server.count(`/Accounts/${TWILIO_TEST_SID}/AvailablePhoneNumbers`)).toBe(1);
  });

  it('syncs without prices when the Pricing API is down, asking it once per number type, not per number', async () => {
    const carrier = await setup({ owned: 5, subaccountOwned: 2 }, { pageSize: 2 });
    server.failNext('GET /Countries/US', { status: 500, times: 1000 });
    const all = (await collectPages(carrier)).flat();
    expect(all).toHaveLength(7);
    for (const n of all) expect(n).toMatchObject({ monthlyCost: null, currency: null });
    // One GET and its three retries (a GET is safe to repeat), for the one country and type.
    expect(server.count('/Countries/US')).toBe(4);
  });

  it('refuses to start without credentials', () => {
    expect(() => createTwilioCarrier({ accountSid: TWILIO_TEST_SID })).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(() => createTwilioCarrier({ accountSid: 'SK123', authToken: 'x' })).toThrow(/AC/);
  });
});
