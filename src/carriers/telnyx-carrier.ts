/**
 * The Telnyx carrier, on the official `telnyx` SDK (API v2).
 *
 * Money safety lives here as much as in the core:
 *   - the SDK's own retry loop is off (`maxRetries: 0`); `withRetry` retries a 429 always (Telnyx
 *     did nothing), and 5xx/timeouts only for reads and deletes. `POST /number_orders` is never
 *     retried blind: an unknown outcome is thrown as UNAVAILABLE and the core looks the order up
 *     by our reference (`customer_reference`).
 *   - a 4xx on an order is a definite refusal: `taken` when the number is gone, else UPSTREAM.
 *   - a pending order is polled with backoff up to `maxPollMs`, then reported as `pending`.
 */
import { Telnyx } from 'telnyx';
import { CoreError } from '../core/errors.js';
import { countryOf, nanpAreaCode } from '../core/phone.js';
import type {
  Carrier,
  OrderLookup,
  OrderOutcome,
  OwnedNumber,
  SearchCriteria,
} from '../core/ports.js';
import type { AvailableNumber, Feature, NumberRecord, NumberType } from '../core/types.js';
import { mapOrdered, withRetry, type RetryPolicy } from './http-retry.js';
import { classifyTelnyxFailure, malformed, toCoreError } from './telnyx-errors.js';

export const TELNYX_DEFAULT_BASE_URL = 'https://api.telnyx.com/v2';

export interface TelnyxCarrierOptions {
  apiKey: string;
  /** Used verbatim (plain http included). The SDK's default includes `/v2`; a Prism mock has none. */
  baseUrl?: string;
  connectionId?: string;
  messagingProfileId?: string;
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** First wait between polls of a pending order; doubles up to 5 s. */
  pollIntervalMs?: number;
  /** How long `order` waits for a pending order before answering `pending`. */
  maxPollMs?: number;
  /** Pages of owned numbers fetched at once by `listOwned`. */
  pageConcurrency?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

type Json = Record<string, unknown>;

interface TelnyxOrder {
  id: string;
  status: 'pending' | 'success' | 'failure';
  e164s: string[];
  customerReference: string | null;
  failure: string | null;
}

const PAGE_SIZE = 250;
const OFFER_CACHE_LIMIT = 500;
const TYPE_TO_TELNYX: Record<NumberType, 'local' | 'toll_free' | 'mobile'> = {
  local: 'local',
  'toll-free': 'toll_free',
  mobile: 'mobile',
};

export function createTelnyxCarrier(options: TelnyxCarrierOptions): Carrier {
  const apiKey = options.apiKey;
  const client = new Telnyx({
    apiKey,
    // Never let the SDK read TELNYX_BASE_URL or OAuth settings from the environment behind our back.
    baseURL: options.baseUrl ?? TELNYX_DEFAULT_BASE_URL,
    clientID: null,
    clientSecret: null,
    publicKey: null,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 30_000,
    logLevel: 'off',
    ...(options.fetch ? { fetch: options.fetch as typeof fetch } : {}),
  });
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const maxPollMs = options.maxPollMs ?? 15_000;
  const pageConcurrency = Math.max(1, options.pageConcurrency ?? 4);
  // Offers seen in searches: the details of a bought number come from here (the order has none).
  const offers = new Map<string, AvailableNumber>();

  async function call<T>(
    what: string,
    idempotent: boolean,
    fn: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await withRetry(fn, {
        idempotent,
        classify: classifyTelnyxFailure,
        ...(options.retry ? { policy: options.retry } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw toCoreError(error, what, apiKey);
    }
  }

  function remember(offer: AvailableNumber): void {
    offers.delete(offer.e164);
    offers.set(offer.e164, offer);
    if (offers.size > OFFER_CACHE_LIMIT) offers.delete(offers.keys().next().value as string);
  }

  async function searchRaw(
    filter: Record<string, unknown>,
    what: string,
    signal?: AbortSignal,
  ): Promise<AvailableNumber[]> {
    const response = await call(
      what,
      true,
      () =>
        client.availablePhoneNumbers.list(
          { filter },
          signal ? { signal } : undefined,
        ) as Promise<unknown>,
      signal,
    );
    const data = (response as Json | null)?.data;
    if (!Array.isArray(data)) throw malformed(what, 'no data list');
    const numberType = filter.phone_number_type as string | undefined;
    const results: AvailableNumber[] = [];
    for (const item of data as Json[]) {
      const offer = toOffer(item, numberType);
      if (offer) {
        remember(offer);
        results.push(offer);
      }
    }
    return results;
  }

  async function check(e164: string): Promise<AvailableNumber | null> {
    const country = countryOf(e164) ?? 'US';
    const areaCode = nanpAreaCode(e164);
    const filter: Record<string, unknown> = { country_code: country, limit: 5 };
    if (areaCode) {
      filter.national_destination_code = areaCode;
      filter.phone_number = { ends_with: e164.slice(-7) };
    } else {
      filter.phone_number = { contains: e164.replace(/^\+\d/, '') };
    }
    const found = await searchRaw(filter, `the availability check of ${e164}`);
    return found.find((offer) => offer.e164 === e164) ?? null;
  }

  async function getOrder(id: string, what: string): Promise<TelnyxOrder> {
    const response = await call(
      what,
      true,
      () => client.numberOrders.retrieve(id) as Promise<unknown>,
    );
    return parseOrder((response as Json | null)?.data, what);
  }

  async function findOwned(e164: string, what: string): Promise<Json | null> {
    const page = await call(what, true, () =>
      client.phoneNumbers.list({ filter: { phone_number: e164 }, 'page[size]': 20 }),
    );
    const rows = (page as unknown as { data?: Json[] }).data ?? [];
    return rows.find((row) => row.phone_number === e164) ?? null;
  }

  async function boughtNumber(
    e164: string,
    orderRef: string,
    what: string,
  ): Promise<Extract<OrderOutcome, { status: 'bought' }>> {
    // The order's own phone-number ids belong to the order; DELETE needs the account's number id.
    let carrierRef: string | null = null;
    try {
      const owned = await findOwned(e164, what);
      carrierRef = owned && typeof owned.id === 'string' ? owned.id : null;
    } catch {
      carrierRef = null; // `release` looks it up by number when it is missing
    }
    return { status: 'bought', number: { ...offerFor(e164), carrierRef }, orderRef };
  }

  function offerFor(e164: string): AvailableNumber {
    const seen = offers.get(e164);
    if (seen) return seen;
    // Bought outside this process (found by a lookup): the store keeps the request's own prices.
    return {
      e164,
      carrier: 'telnyx',
      country: countryOf(e164) ?? 'US',
      region: null,
      locality: null,
      numberType: 'local',
      features: ['voice'],
      monthlyCost: 0,
      upfrontCost: 0,
      currency: 'USD',
    };
  }

  async function pollOrder(order: TelnyxOrder, what: string): Promise<TelnyxOrder> {
    const deadline = Date.now() + maxPollMs;
    let wait = pollIntervalMs;
    let current = order;
    while (current.status === 'pending' && Date.now() + wait <= deadline) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 5_000);
      try {
        current = await getOrder(order.id, what);
      } catch (error) {
        // The order exists; a failed poll only means we do not know yet.
        if (error instanceof CoreError && error.code === 'UNAVAILABLE') continue;
        return current;
      }
    }
    return current;
  }

  async function failedOrder(
    e164: string,
    message: string,
    vendorCode?: string,
  ): Promise<OrderOutcome> {
    // A definite refusal. If the number is gone it was taken; otherwise the refusal is the answer.
    let stillOffered: AvailableNumber | null = null;
    try {
      stillOffered = await check(e164);
    } catch {
      stillOffered = null;
    }
    if (!stillOffered) return { status: 'taken', message };
    throw new CoreError('UPSTREAM', message, vendorCode === undefined ? {} : { vendorCode });
  }

  return {
    name: 'telnyx',
    sandbox: false,

    async search(criteria: SearchCriteria, signal?: AbortSignal) {
      const filter: Record<string, unknown> = {
        country_code: criteria.country,
        phone_number_type: TYPE_TO_TELNYX[criteria.numberType],
        limit: criteria.limit,
      };
      if (criteria.areaCode) filter.national_destination_code = criteria.areaCode;
      if (criteria.locality) filter.locality = criteria.locality;
      if (criteria.region) filter.administrative_area = criteria.region;
      if (criteria.contains) filter.phone_number = { contains: criteria.contains };
      if (criteria.features.length > 0) filter.features = criteria.features;
      const found = await searchRaw(filter, 'the number search', signal);
      return found
        .filter((offer) => !criteria.areaCode || nanpAreaCode(offer.e164) === criteria.areaCode)
        .slice(0, criteria.limit);
    },

    check,

    async hold(e164, reference) {
      let response: unknown;
      try {
        // A reservation costs nothing, but a blind retry could leave two: retried only on 429.
        response = await call(`the reservation of ${e164}`, false, () =>
          client.numberReservations.create({
            customer_reference: reference,
            phone_numbers: [{ phone_number: e164 }],
          }),
        );
      } catch (error) {
        // Refused (already held or gone): no hold, and the purchase re-checks before ordering.
        if (
          error instanceof CoreError &&
          (error.code === 'UPSTREAM' || error.code === 'NOT_FOUND')
        ) {
          return null;
        }
        throw error;
      }
      const data = (response as Json | null)?.data as Json | undefined;
      if (!data || typeof data.id !== 'string')
        throw malformed(`the reservation of ${e164}`, 'no id');
      const numbers = Array.isArray(data.phone_numbers) ? (data.phone_numbers as Json[]) : [];
      if (data.status === 'failure' || numbers.some((n) => n.status === 'failure')) return null;
      return data.id;
    },

    async releaseHold() {
      // Telnyx has no call to cancel a reservation (the spec has none): it lapses by itself after
      // about 30 minutes, and our own order of the number consumes it. Nothing to do.
    },

    async order(e164, { reference }): Promise<OrderOutcome> {
      const what = `the order of ${e164}`;
      // Telnyx only sells a number a recent search returned; searching also refreshes its details.
      if (!offers.has(e164)) {
        const offer = await check(e164);
        if (!offer)
          return { status: 'taken', message: `${e164} is no longer available at Telnyx.` };
      }
      const body: Record<string, unknown> = {
        phone_numbers: [{ phone_number: e164 }],
        customer_reference: reference,
      };
      if (options.connectionId) body.connection_id = options.connectionId;
      if (options.messagingProfileId) body.messaging_profile_id = options.messagingProfileId;
      let response: unknown;
      try {
        response = await call(what, false, () =>
          client.numberOrders.create(body as Parameters<typeof client.numberOrders.create>[0], {
            maxRetries: 0,
          }),
        );
      } catch (error) {
        if (error instanceof CoreError && error.code === 'UPSTREAM' && isRefusalStatus(error)) {
          return failedOrder(e164, error.message, error.vendorCode);
        }
        if (error instanceof CoreError && error.code === 'NOT_FOUND') {
          return failedOrder(e164, error.message, error.vendorCode);
        }
        throw error; // UNAVAILABLE: the outcome is unknown; the core looks the order up
      }
      let order: TelnyxOrder;
      try {
        order = parseOrder((response as Json | null)?.data, what);
      } catch (error) {
        throw new CoreError(
          'UNAVAILABLE',
          `Telnyx's answer to ${what} could not be read; the order may have gone through.`,
          { cause: error },
        );
      }
      order = await pollOrder(order, what);
      if (order.status === 'success') return boughtNumber(e164, order.id, what);
      if (order.status === 'pending') return { status: 'pending', orderRef: order.id };
      return failedOrder(
        e164,
        `Telnyx order ${order.id} failed${order.failure ? `: ${order.failure}` : ''}.`,
      );
    },

    async lookupOrder(reference, e164, orderRef): Promise<OrderLookup> {
      const what = `the lookup of order ${orderRef ?? reference}`;
      let order: TelnyxOrder | null = null;
      if (orderRef) {
        try {
          order = await getOrder(orderRef, what);
        } catch (error) {
          if (!(error instanceof CoreError && error.code === 'NOT_FOUND')) throw error;
        }
      }
      if (!order) {
        const page = await call(what, true, () =>
          client.numberOrders.list({ filter: { customer_reference: reference }, 'page[size]': 20 }),
        );
        const rows = ((page as unknown as { data?: unknown[] }).data ?? []).map((row) =>
          parseOrder(row, what),
        );
        const mine = rows.filter((row) => row.customerReference === reference);
        // One reference is one order; if Telnyx somehow holds more, a success wins.
        order =
          mine.find((row) => row.status === 'success') ??
          mine.find((row) => row.status === 'pending') ??
          mine[0] ??
          null;
      }
      if (order) {
        const number = order.e164s.includes(e164) ? e164 : (order.e164s[0] ?? e164);
        if (order.status === 'success') return boughtNumber(number, order.id, what);
        if (order.status === 'pending') return { status: 'pending', orderRef: order.id };
        return {
          status: 'failed',
          message: `Telnyx order ${order.id} failed${order.failure ? `: ${order.failure}` : ''}`,
        };
      }
      // Last resort: the number is in the account under our reference.
      const owned = await findOwned(e164, what);
      if (owned && owned.customer_reference === reference) {
        return {
          status: 'bought',
          number: { ...offerFor(e164), carrierRef: typeof owned.id === 'string' ? owned.id : null },
          orderRef: `phone-number:${String(owned.id)}`,
        };
      }
      return { status: 'not-found' };
    },

    async release(number: Pick<NumberRecord, 'e164' | 'carrierRef' | 'carrierAccount'>) {
      const what = `the release of ${number.e164}`;
      let id = number.carrierRef;
      let lock: boolean | undefined;
      if (!id) {
        const owned = await findOwned(number.e164, what);
        if (!owned || typeof owned.id !== 'string') {
          throw new CoreError(
            'NOT_FOUND',
            `${number.e164} is not in the Telnyx account (already released?). Run sync to refresh.`,
          );
        }
        id = owned.id;
        lock = owned.deletion_lock_enabled === true;
      }
      if (lock) throw deletionLocked(number.e164);
      try {
        // DELETE by id is idempotent: retried on 5xx and timeouts.
        await call(what, true, () => client.phoneNumbers.delete(id));
      } catch (error) {
        if (error instanceof CoreError && isDeletionLock(error))
          throw deletionLocked(number.e164, error);
        if (error instanceof CoreError && error.code === 'NOT_FOUND') {
          throw new CoreError(
            'NOT_FOUND',
            `${number.e164} is not in the Telnyx account (already released?). Run sync to refresh.`,
            { cause: error, ...(error.vendorCode ? { vendorCode: error.vendorCode } : {}) },
          );
        }
        throw error;
      }
    },

    async lookupOwned(e164: string): Promise<OwnedNumber | null> {
      const page = await call(`lookup of ${e164} in the account`, true, () =>
        client.phoneNumbers.list({ filter: { phone_number: e164 }, 'page[size]': 20 }),
      );
      const body = page as unknown as { data?: unknown };
      if (!Array.isArray(body.data)) throw malformed(`lookup of ${e164}`, 'no data list');
      const row = (body.data as Json[]).find((item) => item.phone_number === e164);
      return row ? toOwned(row) : null;
    },

    async *listOwned(listOptions?: {
      signal?: AbortSignal;
      onTotal?: (total: number) => void;
    }): AsyncIterable<OwnedNumber[]> {
      const signal = listOptions?.signal;
      const fetchPage = async (pageNumber: number) => {
        const page = await call(
          `page ${pageNumber} of the account's numbers`,
          true,
          () =>
            client.phoneNumbers.list(
              { 'page[number]': pageNumber, 'page[size]': PAGE_SIZE },
              signal ? { signal } : undefined,
            ),
          signal,
        );
        const body = page as unknown as { data?: unknown; meta?: Json };
        if (!Array.isArray(body.data)) {
          throw malformed(`page ${pageNumber} of the account's numbers`, 'no data list');
        }
        return { rows: (body.data as Json[]).map(toOwned), meta: body.meta ?? {} };
      };
      const first = await fetchPage(1);
      const totalResults = first.meta.total_results;
      if (typeof totalResults === 'number' && Number.isSafeInteger(totalResults)) {
        listOptions?.onTotal?.(Math.max(0, totalResults));
      }
      if (first.rows.length > 0) yield first.rows;
      const totalPages = Number(first.meta.total_pages ?? 1);
      if (!Number.isFinite(totalPages) || totalPages <= 1) return;
      const rest = Array.from({ length: totalPages - 1 }, (_, index) => index + 2);
      // Pages arrive in order with at most `pageConcurrency` in flight: never the whole account.
      for await (const page of mapOrdered(rest, pageConcurrency, fetchPage)) {
        if (signal?.aborted) return;
        if (page.rows.length === 0) return; // the account shrank while we read it
        yield page.rows;
      }
    },
  };
}

function isRefusalStatus(error: CoreError): boolean {
  const status = Number(error.details?.status);
  return status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 429;
}

function isDeletionLock(error: CoreError): boolean {
  return /deletion[ _]lock/i.test(error.message);
}

function deletionLocked(e164: string, cause?: CoreError): CoreError {
  return new CoreError(
    'CONFLICT',
    `${e164} has a deletion lock at Telnyx, so it cannot be released. Turn off "deletion lock" for the number in the Telnyx portal (Numbers > My Numbers), then release it again.`,
    { ...(cause ? { cause } : {}), ...(cause?.vendorCode ? { vendorCode: cause.vendorCode } : {}) },
  );
}

function parseOrder(data: unknown, what: string): TelnyxOrder {
  const order = data as Json | null | undefined;
  if (!order || typeof order.id !== 'string') throw malformed(what, 'no order id');
  const status = order.status;
  if (status !== 'pending' && status !== 'success' && status !== 'failure') {
    throw malformed(what, `unknown order status ${JSON.stringify(status)}`);
  }
  const numbers = Array.isArray(order.phone_numbers) ? (order.phone_numbers as Json[]) : [];
  const failures = numbers
    .filter((n) => n.status === 'failure')
    .map((n) => String(n.phone_number ?? ''))
    .filter(Boolean);
  return {
    id: order.id,
    status,
    e164s: numbers.map((n) => n.phone_number).filter((n): n is string => typeof n === 'string'),
    customerReference:
      typeof order.customer_reference === 'string' ? order.customer_reference : null,
    failure: failures.length > 0 ? `${failures.join(', ')} could not be ordered` : null,
  };
}

const FEATURE_SET = new Set<string>(['voice', 'sms', 'mms']);

function toFeatures(raw: unknown): Feature[] {
  if (!Array.isArray(raw)) return [];
  const names = raw.map((f) => (typeof f === 'string' ? f : (f as Json | null)?.name));
  return [
    ...new Set(names.filter((n): n is Feature => typeof n === 'string' && FEATURE_SET.has(n))),
  ];
}

function fromTelnyxType(raw: unknown, fallback?: string): NumberType {
  const value = typeof raw === 'string' ? raw : fallback;
  if (value === 'toll_free' || value === 'tollfree') return 'toll-free';
  if (value === 'mobile') return 'mobile';
  return 'local';
}

function toOffer(item: Json, numberType?: string): AvailableNumber | null {
  const e164 = item.phone_number;
  const cost = item.cost_information as Json | undefined;
  if (typeof e164 !== 'string' || !/^\+[1-9]\d{6,14}$/.test(e164) || !cost) return null;
  // Inexact matches ("best effort") are numbers the user did not ask for.
  if (item.best_effort === true) return null;
  const monthly = Number.parseFloat(String(cost.monthly_cost));
  const upfront = Number.parseFloat(String(cost.upfront_cost ?? '0'));
  if (!Number.isFinite(monthly) || !Number.isFinite(upfront)) return null; // no price, no quote
  const regions = Array.isArray(item.region_information) ? (item.region_information as Json[]) : [];
  const region = (type: string) => {
    const name = regions.find((r) => r.region_type === type)?.region_name;
    return typeof name === 'string' && name !== '' ? name : null;
  };
  return {
    e164,
    carrier: 'telnyx',
    country: region('country_code') ?? countryOf(e164) ?? 'US',
    region: region('state'),
    locality: region('location') ?? region('rate_center'),
    numberType: fromTelnyxType(item.phone_number_type, numberType),
    features: toFeatures(item.features),
    monthlyCost: monthly,
    upfrontCost: upfront,
    currency: typeof cost.currency === 'string' ? cost.currency : 'USD',
  };
}

function toOwned(row: Json): OwnedNumber {
  const e164 = String(row.phone_number ?? '');
  // The list carries no capabilities or prices: voice always, sms when a messaging profile is set;
  // prices stay null so a sync keeps what the purchase recorded.
  const features: Feature[] = ['voice'];
  if (typeof row.messaging_profile_id === 'string' && row.messaging_profile_id !== '')
    features.push('sms');
  return {
    e164,
    carrierRef: typeof row.id === 'string' ? row.id : row.id === undefined ? null : String(row.id),
    carrierAccount: null,
    country:
      typeof row.country_iso_alpha2 === 'string'
        ? row.country_iso_alpha2
        : (countryOf(e164) ?? null),
    region: null,
    locality: null,
    numberType: fromTelnyxType(row.phone_number_type),
    features,
    monthlyCost: null,
    upfrontCost: null,
    currency: null,
  };
}
