/**
 * The Twilio carrier, on the official `twilio` SDK (API 2010-04-01 and Pricing v1).
 *
 * Twilio differs from Telnyx in ways that shape this file:
 *   - a search result carries no price: monthly prices per number type come from the Pricing API,
 *     cached per country;
 *   - there are no reservations (no `hold`) and no order objects: a purchase creates the number at
 *     once, so our reference is written into its FriendlyName and a lookup finds the number itself;
 *   - a 201 does not prove a new purchase (Twilio has answered 201 `in-use` for a number the account
 *     already owned), so ownership is checked before ordering and the 201 is compared after;
 *   - an account may have subaccounts: purchases can target one, and sync walks them all.
 */
import twilio from 'twilio';
import { CoreError } from '../core/errors.js';
import { roundMoney } from '../core/money.js';
import { countryOf } from '../core/phone.js';
import { withoutFullStop } from '../core/sentences.js';
import type {
  Carrier,
  OrderLookup,
  OrderOutcome,
  OwnedNumber,
  SearchCriteria,
} from '../core/ports.js';
import type { AvailableNumber, Feature, NumberType } from '../core/types.js';
import type { RetryPolicy } from './http-retry.js';
import { TwilioHttpClient, TwilioNetworkError } from './twilio-http.js';

export interface TwilioCarrierOptions {
  accountSid: string;
  /** Auth token of `accountSid`; or give `apiKey` + `apiSecret` instead. */
  authToken?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Replaces scheme and host of every Twilio domain called (api and pricing): TWILIO_BASE_URL. */
  baseUrl?: string;
  /** Overrides `baseUrl` for the Pricing API alone (a test serving each spec on its own port). */
  pricingBaseUrl?: string;
  /** Elastic SIP trunk new numbers join (TWILIO_TRUNK_SID), so voice agents can reach them. */
  trunkSid?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How long a country's prices are reused (default one hour). */
  pricingTtlMs?: number;
  /** Owned numbers per page in `listOwned` (Twilio's maximum, 1000, by default). */
  pageSize?: number;
  /** Injectable for tests (Retry-After waits). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface TwilioAccount {
  sid: string;
  name: string;
  status: string;
}

export interface TwilioCarrier extends Carrier {
  listAccounts(): Promise<TwilioAccount[]>;
  createAccount(name: string): Promise<TwilioAccount>;
}

type Prices = { byType: Map<NumberType, number>; currency: string };

/** Twilio's Pricing API names for our number types. */
const PRICING_TYPE: Record<NumberType, string> = {
  local: 'local',
  'toll-free': 'toll free',
  mobile: 'mobile',
};

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const NUMBER_SID = /^PN[0-9a-fA-F]{32}$/;
const E164_RE = /^\+[1-9]\d{6,14}$/;
/** Twilio: "The requested phone number is not available" (bought by someone else, or never free). */
const NOT_AVAILABLE = 21422;

/** The subset of an IncomingPhoneNumber the adapter reads. */
interface IncomingNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string | null;
  capabilities: Record<string, boolean> | null;
}

interface AccountRecord {
  sid: string;
  friendlyName: string;
  status: string;
}

interface AvailableRecord {
  phoneNumber: string;
  locality: string | null;
  region: string | null;
  isoCountry: string | null;
  capabilities: Record<string, boolean> | null;
}

/** The SDK's Page, as far as walking it goes. */
interface PageLike<T> {
  instances: T[];
  nextPage(): Promise<PageLike<T>> | undefined;
}

/** Yields the records of each page, following next_page_uri, never holding more than one page. */
async function* pagesOf<T>(first: () => Promise<unknown>, what: string): AsyncGenerator<T[]> {
  let page = (await first()) as PageLike<T>;
  for (;;) {
    if (!Array.isArray(page?.instances)) throw new TypeError(`${what} missing`);
    yield page.instances;
    const next = await page.nextPage();
    if (!next) return;
    page = next;
  }
}

export function createTwilioCarrier(options: TwilioCarrierOptions): TwilioCarrier {
  if (!ACCOUNT_SID.test(options.accountSid)) {
    throw new CoreError(
      'INVALID_INPUT',
      'TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits.',
    );
  }
  const usesKey = Boolean(options.apiKey);
  if (usesKey ? !options.apiSecret : !options.authToken) {
    throw new CoreError(
      'INVALID_INPUT',
      'Twilio needs TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with TWILIO_API_SECRET.',
    );
  }
  // The raw secrets, and the Basic credentials made of them (a server that echoes the request
  // would send those back in its error text).
  const basic = (user: string | undefined, secret: string | undefined) =>
    user && secret ? [Buffer.from(`${user}:${secret}`).toString('base64')] : [];
  const secrets = [
    options.authToken,
    options.apiSecret,
    ...basic(options.accountSid, options.authToken),
    ...basic(options.apiKey, options.apiSecret),
  ].filter((s): s is string => Boolean(s));
  const mainSid = options.accountSid;
  const http = new TwilioHttpClient({
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    ...(options.pricingBaseUrl ? { pricingBaseUrl: options.pricingBaseUrl } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  // `env: {}` and explicit credentials: the SDK must not fall back to process.env on its own.
  const client = usesKey
    ? twilio(options.apiKey, options.apiSecret, { accountSid: mainSid, httpClient: http, env: {} })
    : twilio(mainSid, options.authToken, { httpClient: http, env: {} });
  const api = client.api.v2010;
  const pageSize = Math.min(Math.max(options.pageSize ?? 1000, 1), 1000);
  const pricingTtlMs = options.pricingTtlMs ?? 60 * 60_000;
  const priceCache = new Map<string, { expires: number; prices: Promise<Prices> }>();

  /** Every vendor failure becomes a CoreError with Twilio's message and code, never a secret. */
  function translate(error: unknown, action: string): CoreError {
    if (error instanceof CoreError) return error;
    if (isRestException(error)) {
      const vendorCode = String(error.code ?? error.status);
      const message = scrub(
        `Twilio ${action}: ${error.message || 'no message'} (HTTP ${error.status}${error.code ? `, error ${error.code}` : ''})`,
      );
      const code =
        error.status === 404
          ? 'NOT_FOUND'
          : error.status === 429 || error.status >= 500
            ? 'UNAVAILABLE'
            : 'UPSTREAM';
      return new CoreError(code, message, { vendorCode, cause: error });
    }
    // JSON that does not parse, or a body of the wrong shape: Twilio answered, but not readably.
    return new CoreError(
      'UPSTREAM',
      `Twilio ${action}: the answer could not be read (malformed response).`,
      // Only the error's kind: a parser's message quotes the body, which may hold a subaccount's
      // auth token (POST /Accounts.json answers with one).
      { cause: error instanceof Error ? new Error(error.name) : undefined },
    );
  }

  function scrub(text: string): string {
    return secrets.reduce((out, secret) => out.split(secret).join('***'), text);
  }

  async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw translate(error, action);
    }
  }

  function prices(country: string): Promise<Prices> {
    const key = country.toUpperCase();
    const cached = priceCache.get(key);
    if (cached && cached.expires > Date.now()) return cached.prices;
    const loading = call(`pricing for ${key}`, async () => {
      const result = await client.pricing.v1.phoneNumbers.countries(key).fetch();
      if (!Array.isArray(result.phoneNumberPrices))
        throw new TypeError('phone_number_prices missing');
      const byType = new Map<NumberType, number>();
      for (const [ours, theirs] of Object.entries(PRICING_TYPE) as [NumberType, string][]) {
        const entry = result.phoneNumberPrices.find((p) => p.numberType === theirs);
        const price = Number(entry?.currentPrice ?? entry?.basePrice);
        if (entry && Number.isFinite(price) && price > 0) byType.set(ours, roundMoney(price));
      }
      return { byType, currency: (result.priceUnit || 'USD').toUpperCase() };
    });
    priceCache.set(key, { expires: Date.now() + pricingTtlMs, prices: loading });
    // A failed fetch is not cached: the next search asks again.
    loading.catch(() => {
      if (priceCache.get(key)?.prices === loading) priceCache.delete(key);
    });
    return loading;
  }

  async function priceOf(
    country: string,
    numberType: NumberType,
  ): Promise<{ monthly: number; currency: string }> {
    const { byType, currency } = await prices(country);
    const monthly = byType.get(numberType);
    if (monthly === undefined) {
      throw new CoreError(
        'UPSTREAM',
        `Twilio's Pricing API lists no ${PRICING_TYPE[numberType]} number price for ${country}, so no quote can be made.`,
      );
    }
    return { monthly, currency };
  }

  function toOffer(
    record: AvailableRecord,
    numberType: NumberType,
    fallbackCountry: string,
    price: { monthly: number; currency: string },
    account: string | null,
  ): AvailableNumber {
    return {
      e164: record.phoneNumber,
      carrier: 'twilio',
      carrierAccount: account,
      country: record.isoCountry || fallbackCountry,
      region: record.region || null,
      locality: record.locality || null,
      numberType,
      features: featuresOf(record.capabilities),
      monthlyCost: price.monthly,
      // Twilio charges the first month when the number is bought: that is the upfront cost.
      upfrontCost: price.monthly,
      currency: price.currency,
    };
  }

  async function searchAvailable(criteria: SearchCriteria): Promise<AvailableRecord[]> {
    const country = api.accounts(mainSid).availablePhoneNumbers(criteria.country);
    const resource =
      criteria.numberType === 'toll-free'
        ? country.tollFree
        : criteria.numberType === 'mobile'
          ? country.mobile
          : country.local;
    const params: Record<string, unknown> = { pageSize: criteria.limit };
    if (criteria.areaCode) params.areaCode = Number(criteria.areaCode);
    if (criteria.contains) params.contains = criteria.contains;
    if (criteria.region) params.inRegion = criteria.region;
    if (criteria.locality) params.inLocality = criteria.locality;
    if (criteria.features.includes('voice')) params.voiceEnabled = true;
    if (criteria.features.includes('sms')) params.smsEnabled = true;
    if (criteria.features.includes('mms')) params.mmsEnabled = true;
    // One page only: available-number lists are not paged, and `limit` is all we want.
    const page = await (
      resource as unknown as { page(p: object): Promise<{ instances: unknown }> }
    ).page(params);
    if (!Array.isArray(page.instances)) throw new TypeError('available_phone_numbers missing');
    return (page.instances as AvailableRecord[]).filter(
      (r) => typeof r?.phoneNumber === 'string' && E164_RE.test(r.phoneNumber),
    );
  }

  function incoming(accountSid: string) {
    return api.accounts(accountSid).incomingPhoneNumbers;
  }

  /** The account's record of a number, if it owns it. */
  async function findOwned(accountSid: string, e164: string): Promise<IncomingNumber | null> {
    const page = await incoming(accountSid).page({ phoneNumber: e164, pageSize: 20 });
    if (!Array.isArray(page.instances)) throw new TypeError('incoming_phone_numbers missing');
    return (page.instances as IncomingNumber[]).find((n) => n.phoneNumber === e164) ?? null;
  }

  /** The main account first, then every subaccount that is not closed, page by page. */
  async function* accounts(): AsyncGenerator<{ sid: string; name: string; status: string }> {
    yield { sid: mainSid, name: 'main', status: 'active' };
    for await (const page of pagesOf<AccountRecord>(
      () => api.accounts.page({ pageSize: 1000 }),
      'accounts',
    )) {
      for (const account of page) {
        if (account.sid === mainSid || !ACCOUNT_SID.test(account.sid ?? '')) continue;
        if (account.status === 'closed') continue; // a closed account holds no numbers
        yield { sid: account.sid, name: account.friendlyName, status: account.status };
      }
    }
  }

  function bought(
    number: IncomingNumber,
    offer: { country: string; numberType: NumberType; monthly: number; currency: string },
    account: string | null,
  ) {
    return {
      status: 'bought' as const,
      orderRef: number.sid,
      number: {
        ...toOffer(
          {
            phoneNumber: number.phoneNumber,
            locality: null,
            region: null,
            isoCountry: offer.country,
            capabilities: number.capabilities,
          },
          offer.numberType,
          offer.country,
          { monthly: offer.monthly, currency: offer.currency },
          account,
        ),
        carrierRef: number.sid,
      },
    };
  }

  /** Price facts for a number we own; a missing price is not worth failing a purchase record over. */
  async function ownedFacts(
    e164: string,
  ): Promise<{ country: string; numberType: NumberType; monthly: number; currency: string }> {
    const country = countryFor(e164);
    const numberType = typeOfNumber(e164);
    try {
      const price = await priceOf(country, numberType);
      return { country, numberType, ...price };
    } catch {
      return { country, numberType, monthly: 0, currency: 'USD' };
    }
  }

  const carrier: TwilioCarrier = {
    name: 'twilio',
    sandbox: false,

    async search(criteria, signal) {
      signal?.throwIfAborted();
      const [records, price] = await both(
        call('search', () => searchAvailable(criteria)),
        priceOf(criteria.country, criteria.numberType),
      );
      return records
        .slice(0, criteria.limit)
        .map((r) => toOffer(r, criteria.numberType, criteria.country, price, null));
    },

    async check(e164) {
      const country = countryFor(e164);
      const numberType = typeOfNumber(e164);
      const criteria: SearchCriteria = {
        country: country === 'CA' ? 'CA' : 'US',
        numberType,
        contains: e164,
        features: [],
        limit: 20,
      };
      const [records, price] = await both(
        call('check', () => searchAvailable(criteria)),
        priceOf(country, numberType),
      );
      const record = records.find((r) => r.phoneNumber === e164);
      return record ? toOffer(record, numberType, country, price, null) : null;
    },

    async order(e164, { reference, account }): Promise<OrderOutcome> {
      const accountSid = account ?? mainSid;
      if (!ACCOUNT_SID.test(accountSid))
        throw new CoreError('INVALID_INPUT', `"${accountSid}" is not a Twilio account SID.`);
      const carrierAccount = accountSid === mainSid ? null : accountSid;
      // Ownership first: a number the account already holds is never reported as a new purchase.
      let owned: IncomingNumber | null;
      try {
        owned = await call('ownership check', () => findOwned(accountSid, e164));
      } catch (error) {
        // Nothing has been ordered yet: a failure here is a definite "no", not an unknown outcome.
        const failed = translate(error, 'ownership check');
        throw new CoreError(
          'UPSTREAM',
          `${withoutFullStop(failed.message)}; nothing was ordered.`,
          {
            vendorCode: failed.vendorCode,
            cause: failed,
          },
        );
      }
      if (owned) {
        if (owned.friendlyName === reference)
          return bought(owned, await ownedFacts(e164), carrierAccount);
        throw alreadyOwned(e164, accountSid, owned);
      }
      let created: IncomingNumber;
      try {
        created = (await incoming(accountSid).create({
          phoneNumber: e164,
          friendlyName: reference,
          ...(options.trunkSid ? { trunkSid: options.trunkSid } : {}),
        })) as unknown as IncomingNumber;
      } catch (error) {
        if (isRestException(error)) {
          if (error.code === NOT_AVAILABLE)
            return {
              status: 'taken',
              message: scrub(`${e164} is no longer available at Twilio: ${error.message}`),
            };
          // A 429 was never processed and a 4xx is a refusal: either way nothing was bought.
          if (error.status < 500) {
            const refused = translate(error, 'purchase');
            throw new CoreError('UPSTREAM', refused.message, {
              vendorCode: refused.vendorCode ?? String(error.status),
              cause: error,
            });
          }
          throw new CoreError(
            'UNAVAILABLE',
            scrub(
              `Twilio purchase: HTTP ${error.status} (${error.message}); the purchase may have gone through.`,
            ),
            { vendorCode: String(error.code ?? error.status), cause: error },
          );
        }
        if (error instanceof TwilioNetworkError && error.notSent) {
          throw new CoreError(
            'UPSTREAM',
            `${withoutFullStop(error.message)}; Twilio was not reached, nothing was bought.`,
          );
        }
        if (error instanceof CoreError) {
          throw new CoreError(
            'UNAVAILABLE',
            `${withoutFullStop(error.message)}; the purchase may have gone through.`,
            error.vendorCode ? { vendorCode: error.vendorCode } : {},
          );
        }
        throw new CoreError(
          'UNAVAILABLE',
          'Twilio purchase: the answer could not be read (malformed response); the purchase may have gone through.',
        );
      }
      if (!created || typeof created.sid !== 'string' || created.phoneNumber !== e164) {
        throw new CoreError(
          'UNAVAILABLE',
          'Twilio purchase: the answer did not describe the number (malformed response); the purchase may have gone through.',
        );
      }
      // The in-use trap: a 201 for a number the account held already carries its old name.
      if (created.friendlyName !== reference) throw alreadyOwned(e164, accountSid, created);
      return bought(created, await ownedFacts(e164), carrierAccount);
    },

    async lookupOrder(reference, e164, orderRef): Promise<OrderLookup> {
      return call('order lookup', async () => {
        for await (const account of accounts()) {
          const found = await findOwned(account.sid, e164);
          if (!found) continue;
          const carrierAccount = account.sid === mainSid ? null : account.sid;
          if (found.friendlyName === reference || (orderRef !== null && found.sid === orderRef)) {
            return bought(found, await ownedFacts(e164), carrierAccount);
          }
          return {
            status: 'failed',
            message: `${e164} is in Twilio account ${account.sid} as "${found.friendlyName ?? ''}", not from request ${reference}; this request bought nothing`,
          };
        }
        return { status: 'not-found' };
      });
    },

    async release(number) {
      const accountSid = number.carrierAccount ?? mainSid;
      let sid = number.carrierRef;
      if (!sid || !NUMBER_SID.test(sid)) {
        const found = await call('release lookup', () => findOwned(accountSid, number.e164));
        if (!found) throw notInAccount(number.e164);
        sid = found.sid;
      }
      const numberSid = sid;
      try {
        await incoming(accountSid)(numberSid).remove();
      } catch (error) {
        const translated = translate(error, `release of ${number.e164}`);
        if (translated.code === 'NOT_FOUND') throw notInAccount(number.e164, translated);
        throw translated;
      }
    },

    async lookupOwned(e164) {
      const known = new Map<string, Promise<{ monthly: number; currency: string } | null>>();
      return call('number lookup', async () => {
        for await (const account of accounts()) {
          const found = await findOwned(account.sid, e164);
          if (found) return ownedRow(found, account.sid === mainSid ? null : account.sid, known);
        }
        return null;
      });
    },

    async *listOwned({ signal } = {}): AsyncIterable<OwnedNumber[]> {
      const known = new Map<string, Promise<{ monthly: number; currency: string } | null>>();
      const iterator = accounts();
      for (;;) {
        signal?.throwIfAborted();
        const next = await call('account list', () => iterator.next());
        if (next.done) return;
        const account = next.value;
        const carrierAccount = account.sid === mainSid ? null : account.sid;
        const pages = pagesOf<IncomingNumber>(
          () => incoming(account.sid).page({ pageSize }),
          'incoming_phone_numbers',
        );
        for (;;) {
          signal?.throwIfAborted();
          const page = await call('number list', () => pages.next());
          if (page.done) break;
          const rows: OwnedNumber[] = [];
          for (const n of page.value) {
            if (typeof n?.phoneNumber !== 'string' || !E164_RE.test(n.phoneNumber)) continue;
            rows.push(await ownedRow(n, carrierAccount, known));
          }
          if (rows.length > 0) yield rows;
        }
      }
    },

    async listAccounts() {
      return call('account list', async () => {
        const out: TwilioAccount[] = [];
        for await (const page of pagesOf<AccountRecord>(
          () => api.accounts.page({ pageSize: 1000 }),
          'accounts',
        )) {
          for (const a of page) out.push({ sid: a.sid, name: a.friendlyName, status: a.status });
        }
        return out;
      });
    },

    async createAccount(name) {
      // A POST: never retried after it may have reached Twilio (the HTTP layer sees to it).
      const created = await call('subaccount creation', () =>
        api.accounts.create({ friendlyName: name }),
      );
      if (!created || !ACCOUNT_SID.test(created.sid ?? '')) {
        throw new CoreError(
          'UNAVAILABLE',
          'Twilio subaccount creation: the answer could not be read; the subaccount may exist. List accounts to check.',
        );
      }
      // Only these three fields: the answer also holds the subaccount's auth token.
      return { sid: created.sid, name: created.friendlyName, status: created.status };
    },
  };

  async function ownedRow(
    n: IncomingNumber,
    carrierAccount: string | null,
    known: Map<string, Promise<{ monthly: number; currency: string } | null>>,
  ): Promise<OwnedNumber> {
    const country = countryFor(n.phoneNumber);
    const numberType = typeOfNumber(n.phoneNumber);
    const key = `${country}/${numberType}`;
    // Asked once per sync, failures included: a Pricing API outage must not cost a request per
    // number, and a sync is worth more than a price (the number is recorded without one).
    if (!known.has(key))
      known.set(
        key,
        priceOf(country, numberType).catch(() => null),
      );
    const price = await known.get(key)!;
    return {
      e164: n.phoneNumber,
      carrierRef: n.sid,
      carrierAccount,
      country,
      region: null,
      locality: null,
      numberType,
      features: featuresOf(n.capabilities),
      monthlyCost: price?.monthly ?? null,
      upfrontCost: null,
      currency: price?.currency ?? null,
    };
  }

  return carrier;
}

/** Like Promise.all for two, but settles both first: no request is left running behind an error. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
  return [x.value, y.value];
}

function alreadyOwned(e164: string, accountSid: string, owned: IncomingNumber): CoreError {
  return new CoreError(
    'UPSTREAM',
    `${e164} is already in Twilio account ${accountSid} (${owned.sid}, "${owned.friendlyName ?? ''}"): it was not bought by this request. Run sync to import it.`,
    { vendorCode: 'ALREADY_OWNED' },
  );
}

function notInAccount(e164: string, cause?: CoreError): CoreError {
  return new CoreError(
    'NOT_FOUND',
    `Twilio: ${e164} is not in the account (already released?). Run sync to refresh.`,
    {
      ...(cause ? { cause, vendorCode: cause.vendorCode } : {}),
    },
  );
}

/** What the SDK throws for an HTTP error answer (twilio.RestException), as far as we read it. */
interface RestException extends Error {
  status: number;
  code?: number;
  moreInfo?: string;
}

function isRestException(error: unknown): error is RestException {
  return (
    error instanceof twilio.RestException ||
    (error instanceof Error &&
      typeof (error as { status?: unknown }).status === 'number' &&
      'moreInfo' in error)
  );
}

/** Capabilities come as {voice, SMS, MMS} from searches and {voice, sms, mms} from owned numbers. */
function featuresOf(capabilities: Record<string, boolean> | null | undefined): Feature[] {
  const features: Feature[] = [];
  if (!capabilities || typeof capabilities !== 'object') return features;
  const has = (name: string) =>
    Object.entries(capabilities).some(([k, v]) => k.toLowerCase() === name && v === true);
  for (const feature of ['voice', 'sms', 'mms'] as const) if (has(feature)) features.push(feature);
  return features;
}

const TOLL_FREE_NPA = new Set(['800', '833', '844', '855', '866', '877', '888']);

/** Twilio's owned-number records carry no type: North American toll-free prefixes tell it. */
function typeOfNumber(e164: string): NumberType {
  return TOLL_FREE_NPA.has(e164.slice(2, 5)) && e164.startsWith('+1') ? 'toll-free' : 'local';
}

/** Fictional 555 numbers resolve to no country in libphonenumber: North America defaults to US. */
function countryFor(e164: string): string {
  return countryOf(e164) ?? 'US';
}
