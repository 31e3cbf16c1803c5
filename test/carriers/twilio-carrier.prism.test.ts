/**
 * Contract test: the Twilio adapter, through the real `twilio` SDK, against Prism mocks of Twilio's
 * own OpenAPI documents (API 2010-04-01 and Pricing v1, trimmed, form bodies strict, behind the
 * proxy that refuses undeclared query and form keys). Every request the adapter makes must be one
 * the spec accepts, and every canned answer must read. Data flow (a bought number listed later,
 * paging to the end, a number taken) belongs to the scenario tests: Prism answers examples.
 *
 * The canned examples decide some outcomes here: the owned-number list always holds
 * +18089255327 ("(808) 925-5327", PNaaaa…), and a purchase always answers with that same number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioCarrier } from '../../src/carriers/twilio-carrier.js';
import type { PrismMock, RecordedRequest } from '../helpers/prism.js';
import { requestsFor, startPrism } from '../helpers/prism.js';
import { relaxedTwilioSpec } from '../helpers/twilio-prism-spec.js';
import { TWILIO_TEST_SID, TWILIO_TEST_TOKEN } from '../helpers/twilio-scenario-server.js';

const API_SPEC = 'test/contracts/specs/twilio-api.trimmed.json';
const PRICING_SPEC = 'test/contracts/specs/twilio-pricing.trimmed.json';
const TRUNK = `TK${'a'.repeat(32)}`;
const CANNED_NUMBER = '+18089255327';
const CANNED_SID = `PN${'a'.repeat(32)}`;
const ACCOUNT = `/2010-04-01/Accounts/${TWILIO_TEST_SID}`;

const OPS = {
  local: 'GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json',
  tollFree:
    'GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/TollFree.json',
  mobile: 'GET /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Mobile.json',
  listNumbers: 'GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json',
  buy: 'POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json',
  release: 'DELETE /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json',
  listAccounts: 'GET /2010-04-01/Accounts.json',
  createAccount: 'POST /2010-04-01/Accounts.json',
  pricing: 'GET /v1/PhoneNumbers/Countries/{IsoCountry}',
};

describe("twilio adapter against Prism mocks of Twilio's specs", () => {
  let api: PrismMock;
  let pricing: PrismMock;
  beforeAll(async () => {
    // Response schemas relaxed where Twilio's own examples break them (see twilio-prism-spec.ts).
    [api, pricing] = await Promise.all([
      startPrism(relaxedTwilioSpec(API_SPEC)),
      startPrism(relaxedTwilioSpec(PRICING_SPEC)),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([api?.close(), pricing?.close()]);
  });

  const carrier = () =>
    createTwilioCarrier({
      accountSid: TWILIO_TEST_SID,
      authToken: TWILIO_TEST_TOKEN,
      baseUrl: api.url,
      pricingBaseUrl: pricing.url,
      trunkSid: TRUNK,
      retry: { maxRetries: 0 },
    });

  /** The last request of an operation: answered as expected, nothing refused by proxy or Prism. */
  const lastOk = (mock: PrismMock, operation: string, status: number): RecordedRequest => {
    const request = requestsFor(mock, operation).at(-1);
    expect(request, operation).toBeDefined();
    expect(request).toMatchObject({ status, rejected: [], violations: [] });
    expect(request!.headers.authorization).toBe(
      `Basic ${Buffer.from(`${TWILIO_TEST_SID}:${TWILIO_TEST_TOKEN}`).toString('base64')}`,
    );
    return request!;
  };

  it('searches local numbers with every filter, priced from the Pricing API', async () => {
    const offers = await carrier().search({
      country: 'US',
      numberType: 'local',
      areaCode: '808',
      region: 'HI',
      locality: 'Hilo',
      contains: '925',
      features: ['voice', 'sms', 'mms'],
      limit: 5,
    });
    expect(offers).toEqual([
      expect.objectContaining({
        e164: '+18089251571',
        carrier: 'twilio',
        country: 'US',
        region: 'HI',
        locality: 'Hilo',
        numberType: 'local',
        monthlyCost: 1,
        upfrontCost: 1,
        currency: 'USD',
        features: ['voice', 'mms'],
      }),
    ]);
    const search = lastOk(api, OPS.local, 200);
    expect(search.path).toBe(`${ACCOUNT}/AvailablePhoneNumbers/US/Local.json`);
    expect(Object.fromEntries(search.query)).toEqual({
      PageSize: '5',
      AreaCode: '808',
      Contains: '925',
      InRegion: 'HI',
      InLocality: 'Hilo',
      VoiceEnabled: 'true',
      SmsEnabled: 'true',
      MmsEnabled: 'true',
    });
    expect(lastOk(pricing, OPS.pricing, 200).path).toBe('/v1/PhoneNumbers/Countries/US');
  });

  it('searches toll-free numbers at the toll-free price', async () => {
    const offers = await carrier().search({
      country: 'US',
      numberType: 'toll-free',
      features: [],
      limit: 1,
    });
    expect(offers[0]).toMatchObject({
      e164: '+18001000052',
      numberType: 'toll-free',
      monthlyCost: 2,
    });
    lastOk(api, OPS.tollFree, 200);
  });

  it('searches mobile numbers; the canned price list has no mobile price, so no quote is made', async () => {
    await expect(
      carrier().search({ country: 'US', numberType: 'mobile', features: ['sms'], limit: 1 }),
    ).rejects.toMatchObject({ code: 'UPSTREAM' });
    expect(Object.fromEntries(lastOk(api, OPS.mobile, 200).query)).toEqual({
      PageSize: '1',
      SmsEnabled: 'true',
    });
  });

  it('checks one number with Contains', async () => {
    await carrier().check('+18089251571');
    expect(Object.fromEntries(lastOk(api, OPS.local, 200).query)).toMatchObject({
      Contains: '+18089251571',
    });
  });

  it('buys with PhoneNumber, FriendlyName and TrunkSid, after an ownership check', async () => {
    // The canned 201 names another number than the one asked for: the adapter refuses to call
    // that a purchase of ours, which is what the request-shape check needs anyway.
    await expect(carrier().order('+18089251571', { reference: 'R-PRISM' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(Object.fromEntries(lastOk(api, OPS.listNumbers, 200).query)).toEqual({
      PhoneNumber: '+18089251571',
      PageSize: '20',
    });
    const buy = lastOk(api, OPS.buy, 201);
    expect(buy.path).toBe(`${ACCOUNT}/IncomingPhoneNumbers.json`);
    expect(buy.body).toEqual([
      ['FriendlyName', 'R-PRISM'],
      ['TrunkSid', TRUNK],
      ['PhoneNumber', '+18089251571'],
    ]);
  });

  it('refuses to buy a number the list says the account owns, without a POST', async () => {
    const posts = requestsFor(api, OPS.buy).length;
    await expect(carrier().order(CANNED_NUMBER, { reference: 'R-OWNED' })).rejects.toMatchObject({
      code: 'UPSTREAM',
      vendorCode: 'ALREADY_OWNED',
    });
    expect(requestsFor(api, OPS.buy)).toHaveLength(posts);
  });

  it('looks an order up by number and reference', async () => {
    expect(await carrier().lookupOrder('(808) 925-5327', CANNED_NUMBER, null)).toMatchObject({
      status: 'bought',
      orderRef: CANNED_SID,
      number: { e164: CANNED_NUMBER, carrierRef: CANNED_SID, carrierAccount: null },
    });
    expect(await carrier().lookupOrder('R-NEVER', '+12025550199', null)).toEqual({
      status: 'not-found',
    });
    lastOk(api, OPS.listAccounts, 200);
  });

  it('lists owned numbers of the account and its subaccounts', async () => {
    const rows = [];
    let pages = 0;
    for await (const page of carrier().listOwned()) {
      rows.push(...page);
      if (++pages > 5) break; // Prism's paging metadata never changes: never loop forever on it
    }
    expect(rows[0]).toMatchObject({
      e164: CANNED_NUMBER,
      carrierRef: CANNED_SID,
      carrierAccount: null,
      features: ['voice', 'mms'],
    });
    expect(Object.fromEntries(lastOk(api, OPS.listNumbers, 200).query)).toEqual({
      PageSize: '1000',
    });
    expect(Object.fromEntries(lastOk(api, OPS.listAccounts, 200).query)).toEqual({
      PageSize: '1000',
    });
  });

  it('looks up one owned number by PhoneNumber, across the accounts', async () => {
    expect(await carrier().lookupOwned!(CANNED_NUMBER)).toMatchObject({
      e164: CANNED_NUMBER,
      carrierRef: CANNED_SID,
      carrierAccount: null,
    });
    expect(Object.fromEntries(lastOk(api, OPS.listNumbers, 200).query)).toMatchObject({
      PhoneNumber: CANNED_NUMBER,
    });
    // Not in the main account's canned list, nor any subaccount's: not ours.
    expect(await carrier().lookupOwned!('+12025550199')).toBeNull();
    lastOk(api, OPS.listAccounts, 200);
  });

  it('releases a number by its SID', async () => {
    await carrier().release({ e164: CANNED_NUMBER, carrierRef: CANNED_SID, carrierAccount: null });
    expect(lastOk(api, OPS.release, 204).path).toBe(
      `${ACCOUNT}/IncomingPhoneNumbers/${CANNED_SID}.json`,
    );
  });

  it('lists and creates subaccounts', async () => {
    expect(Array.isArray(await carrier().listAccounts())).toBe(true);
    lastOk(api, OPS.listAccounts, 200);
    expect(await carrier().createAccount('Sales team')).toEqual({
      sid: `AC${'a'.repeat(32)}`,
      name: 'friendly_name',
      status: 'active',
    });
    expect(lastOk(api, OPS.createAccount, 201).body).toEqual([['FriendlyName', 'Sales team']]);
  });
});
