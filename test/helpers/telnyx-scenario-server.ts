/**
 * A small stateful Telnyx, for what a canned Prism mock cannot show: paging to the last page, a
 * 429 with Retry-After, orders that stay pending and then succeed or fail, a number taken by
 * someone else, malformed answers, timeouts, a deletion lock. Shaped like API v2 (paths served
 * with or without `/v2`, `{ data, meta }` bodies, `{ errors: [{ code, title, detail }] }`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal } from './local-http.js';

type Json = Record<string, unknown>;

export interface ScenarioOffer {
  phone_number: string;
  state: string;
  city: string;
  type: 'local' | 'toll_free' | 'mobile';
  features: string[];
  monthly: string;
  upfront: string;
}

export interface ScenarioOwned {
  id: string;
  phone_number: string;
  customer_reference: string | null;
  deletion_lock_enabled: boolean;
  messaging_profile_id: string | null;
  phone_number_type: string;
}

export interface ScenarioOrder {
  id: string;
  status: 'pending' | 'success' | 'failure';
  customer_reference: string | null;
  connection_id: string | null;
  messaging_profile_id: string | null;
  phone_number: string;
  /** Polls left before a pending order settles. */
  pollsLeft: number;
  settlesAs: 'success' | 'failure';
}

/** A canned fault for the next matching request(s). */
export interface ScenarioFault {
  method: string;
  /** Matched against the path without `/v2`, e.g. /number_orders or /phone_numbers */
  path: string | RegExp;
  kind: 'status' | 'malformed' | 'hang';
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** For POST /number_orders: act first (create the order), then answer with the fault. */
  afterActing?: boolean;
  times?: number;
}

export interface ScenarioRequest {
  method: string;
  path: string;
  query: [string, string][];
  body: unknown;
  authorization: string | undefined;
}

export interface TelnyxScenarioOptions {
  apiKey?: string;
  /** Owned numbers to start with (paging scenarios use hundreds). */
  ownedCount?: number;
  /** Pending polls before an order settles; 0: orders succeed at once. */
  pendingPolls?: number;
  settlesAs?: 'success' | 'failure';
  /** Delay before each answer, so concurrency can be observed. */
  latencyMs?: number;
}

export interface TelnyxScenarioServer {
  url: string;
  requests: ScenarioRequest[];
  inventory: Map<string, ScenarioOffer>;
  owned: Map<string, ScenarioOwned>;
  orders: Map<string, ScenarioOrder>;
  reservations: Map<
    string,
    { id: string; phone_number: string; customer_reference: string | null }
  >;
  options: Required<TelnyxScenarioOptions>;
  /** The most requests to one path prefix that were in flight at once. */
  maxInFlight(pathPrefix: string): number;
  fault(fault: ScenarioFault): void;
  takeElsewhere(e164: string): void;
  close(): Promise<void>;
}

/** A Map that counts its changes, so a cached copy of its values knows when it is stale. */
class VersionedMap<K, V> extends Map<K, V> {
  version = 0;
  override set(key: K, value: V): this {
    this.version++;
    return super.set(key, value);
  }
  override delete(key: K): boolean {
    this.version++;
    return super.delete(key);
  }
  override clear(): void {
    this.version++;
    super.clear();
  }
}

export const SCENARIO_API_KEY = 'KEY_TEST_FAKE_TELNYX';

function defaultInventory(): Map<string, ScenarioOffer> {
  const inventory = new Map<string, ScenarioOffer>();
  const add = (
    prefix: string,
    state: string,
    city: string,
    type: ScenarioOffer['type'],
    count: number,
  ) => {
    for (let i = 0; i < count; i++) {
      const phone = `${prefix}${String(100 + i).padStart(4, '0')}`;
      inventory.set(phone, {
        phone_number: phone,
        state,
        city,
        type,
        features: i % 3 === 2 ? ['voice'] : ['voice', 'sms'],
        monthly: '1.00',
        upfront: '1.00',
      });
    }
  };
  add('+1415555', 'CA', 'San Francisco', 'local', 12);
  add('+1212555', 'NY', 'New York', 'local', 6);
  add('+1604555', 'BC', 'Vancouver', 'local', 4);
  add('+1888555', '', '', 'toll_free', 4);
  return inventory;
}

export async function startTelnyxScenarioServer(
  input: TelnyxScenarioOptions = {},
): Promise<TelnyxScenarioServer> {
  const options: Required<TelnyxScenarioOptions> = {
    apiKey: input.apiKey ?? SCENARIO_API_KEY,
    ownedCount: input.ownedCount ?? 3,
    pendingPolls: input.pendingPolls ?? 0,
    settlesAs: input.settlesAs ?? 'success',
    latencyMs: input.latencyMs ?? 0,
  };
  const inventory = defaultInventory();
  const owned = new VersionedMap<string, ScenarioOwned>();
  const orders = new Map<string, ScenarioOrder>();
  const reservations = new Map<
    string,
    { id: string; phone_number: string; customer_reference: string | null }
  >();
  const requests: ScenarioRequest[] = [];
  const faults: ScenarioFault[] = [];
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  let sequence = 1000;
  // The owned numbers as a list, made again only after the map changed: paging 100,000 numbers
  // must not copy them all for every page (the bench measures the client, not this server).
  // Each page's JSON is kept too, until the map changes: serialising 250 numbers a page took this
  // server about 4 ms of CPU, 1.6 s over a 100,000-number sync, on the same two cores as the client
  // the bench measures (a real API's servers are elsewhere). Entries are replaced, never changed in
  // place, so a changed number always bumps the version.
  let ownedCache: { version: number; list: ScenarioOwned[]; pages: Map<string, string> } | null =
    null;
  const ownedList = (): ScenarioOwned[] => {
    if (ownedCache?.version !== owned.version)
      ownedCache = { version: owned.version, list: [...owned.values()], pages: new Map() };
    return ownedCache.list;
  };

  for (let i = 0; i < options.ownedCount; i++) {
    const phone = `+1650${String(5550000 + i).padStart(7, '0')}`;
    const id = String(1_293_384_261_000_000_000n + BigInt(i));
    owned.set(id, {
      id,
      phone_number: phone,
      customer_reference: null,
      deletion_lock_enabled: false,
      messaging_profile_id: i % 2 === 0 ? 'mp-1' : null,
      phone_number_type: 'local',
    });
  }

  const isTaken = (e164: string) =>
    !inventory.has(e164) || [...owned.values()].some((n) => n.phone_number === e164);

  // `latencyMs` is each response's time from the request's arrival: the answer is worked out at
  // once and held back until then, as a real API's many servers would have it ready. (Holding the
  // request first and working it out after made concurrent pages queue behind this one thread's
  // JSON work, a cost of the scenario, not of the client under test.)
  const dueAt = new WeakMap<ServerResponse, number>();
  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => sendText(res, status, JSON.stringify(body), headers);
  const sendText = (
    res: ServerResponse,
    status: number,
    payload: string,
    headers: Record<string, string> = {},
  ) => {
    const write = () => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload);
    };
    const wait = (dueAt.get(res) ?? 0) - performance.now();
    if (wait > 0) setTimeout(write, wait);
    else write();
  };
  const error = (
    res: ServerResponse,
    status: number,
    code: string,
    title: string,
    detail: string,
  ) => send(res, status, { errors: [{ code, title, detail }] });

  const orderJson = (order: ScenarioOrder) => ({
    id: order.id,
    record_type: 'number_order',
    status: order.status,
    customer_reference: order.customer_reference,
    connection_id: order.connection_id,
    messaging_profile_id: order.messaging_profile_id,
    phone_numbers_count: 1,
    phone_numbers: [
      {
        id: `onum-${order.id}`,
        record_type: 'number_order_phone_number',
        phone_number: order.phone_number,
        status: order.status,
      },
    ],
    created_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
  });

  const settle = (order: ScenarioOrder) => {
    if (order.status !== 'pending') return;
    if (order.pollsLeft > 0) {
      order.pollsLeft--;
      return;
    }
    order.status = order.settlesAs;
    if (order.status === 'success') buy(order);
  };

  const buy = (order: ScenarioOrder) => {
    const id = String(++sequence);
    owned.set(id, {
      id,
      phone_number: order.phone_number,
      customer_reference: order.customer_reference,
      deletion_lock_enabled: false,
      messaging_profile_id: order.messaging_profile_id,
      phone_number_type: inventory.get(order.phone_number)?.type ?? 'local',
    });
    inventory.delete(order.phone_number);
  };

  const createOrder = (body: Json): ScenarioOrder | string => {
    const numbers = Array.isArray(body.phone_numbers) ? (body.phone_numbers as Json[]) : [];
    const phone = String(numbers[0]?.phone_number ?? '');
    if (!phone || isTaken(phone)) return phone;
    const order: ScenarioOrder = {
      id: `ord-${++sequence}`,
      status: 'pending',
      customer_reference:
        typeof body.customer_reference === 'string' ? body.customer_reference : null,
      connection_id: typeof body.connection_id === 'string' ? body.connection_id : null,
      messaging_profile_id:
        typeof body.messaging_profile_id === 'string' ? body.messaging_profile_id : null,
      phone_number: phone,
      pollsLeft: options.pendingPolls,
      settlesAs: options.settlesAs,
    };
    orders.set(order.id, order);
    if (options.pendingPolls === 0) {
      order.status = order.settlesAs;
      if (order.status === 'success') buy(order);
    }
    return order;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://scenario');
    const path = url.pathname.replace(/^\/v2(?=\/)/, '');
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    let body: unknown = undefined;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    requests.push({
      method,
      path,
      query: [...q.entries()],
      body,
      authorization: req.headers.authorization,
    });

    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return error(
        res,
        401,
        '10009',
        'Authentication failed',
        'The API key you provided is invalid.',
      );
    }

    const faultIndex = faults.findIndex(
      (f) =>
        f.method === method && (typeof f.path === 'string' ? f.path === path : f.path.test(path)),
    );
    const fault = faultIndex >= 0 ? faults[faultIndex] : undefined;
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faultIndex, 1);
      if (fault.afterActing && method === 'POST' && path === '/number_orders')
        createOrder(body as Json);
      if (fault.kind === 'hang') {
        hanging.add(res);
        return; // never answered; the client times out
      }
      if (fault.kind === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data": {"id": "ord-');
        return;
      }
      return send(
        res,
        fault.status ?? 500,
        fault.body ?? {
          errors: [
            { code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' },
          ],
        },
        fault.headers,
      );
    }

    if (method === 'GET' && path === '/available_phone_numbers') {
      const country = q.get('filter[country_code]');
      if (!country)
        return error(res, 400, '10015', 'Bad Request', 'filter[country_code] is required');
      const ndc = q.get('filter[national_destination_code]');
      const type = q.get('filter[phone_number_type]');
      const locality = q.get('filter[locality]');
      const area = q.get('filter[administrative_area]');
      const contains = q.get('filter[phone_number][contains]');
      const endsWith = q.get('filter[phone_number][ends_with]');
      const features = (q.get('filter[features]') ?? '').split(',').filter(Boolean);
      const limit = Number(q.get('filter[limit]') ?? 50);
      const countryOf = (e164: string) =>
        ['604', '778', '416'].includes(e164.slice(2, 5)) ? 'CA' : 'US';
      const data = [...inventory.values()]
        .filter((o) => !isTaken(o.phone_number))
        .filter((o) => o.type === 'toll_free' || countryOf(o.phone_number) === country)
        .filter((o) => !type || o.type === type)
        .filter((o) => !ndc || o.phone_number.slice(2, 5) === ndc)
        .filter((o) => !locality || o.city.toLowerCase() === locality.toLowerCase())
        .filter((o) => !area || o.state === area)
        .filter((o) => !contains || o.phone_number.slice(2).includes(contains))
        .filter((o) => !endsWith || o.phone_number.endsWith(endsWith))
        .filter((o) => features.every((f) => o.features.includes(f)))
        .slice(0, limit)
        .map((o) => ({
          record_type: 'available_phone_number',
          phone_number: o.phone_number,
          best_effort: false,
          reservable: true,
          quickship: true,
          vanity_format: '',
          cost_information: { currency: 'USD', monthly_cost: o.monthly, upfront_cost: o.upfront },
          features: o.features.map((name) => ({ name })),
          region_information: [
            { region_type: 'country_code', region_name: countryOf(o.phone_number) },
            ...(o.state ? [{ region_type: 'state', region_name: o.state }] : []),
            ...(o.city ? [{ region_type: 'location', region_name: o.city }] : []),
          ],
        }));
      return send(res, 200, { data, meta: { total_results: data.length, best_effort_results: 0 } });
    }

    if (method === 'POST' && path === '/number_reservations') {
      const b = body as Json;
      const phone = String(((b.phone_numbers as Json[] | undefined) ?? [])[0]?.phone_number ?? '');
      const heldByOther = [...reservations.values()].some(
        (r) => r.phone_number === phone && r.customer_reference !== b.customer_reference,
      );
      if (isTaken(phone) || heldByOther) {
        return error(
          res,
          422,
          '85001',
          'Number not available',
          `${phone} is not available for reservation.`,
        );
      }
      const id = `res-${++sequence}`;
      const customer_reference =
        typeof b.customer_reference === 'string' ? b.customer_reference : null;
      reservations.set(id, { id, phone_number: phone, customer_reference });
      return send(res, 200, {
        data: {
          id,
          record_type: 'number_reservation',
          status: 'success',
          customer_reference,
          phone_numbers: [
            {
              id: `rnum-${id}`,
              phone_number: phone,
              status: 'success',
              expired_at: '2026-11-01T00:30:00Z',
            },
          ],
        },
      });
    }

    if (method === 'POST' && path === '/number_orders') {
      const created = createOrder(body as Json);
      if (typeof created === 'string') {
        return error(
          res,
          422,
          '85001',
          'Number not available',
          `${created || 'The number'} is no longer available.`,
        );
      }
      return send(res, 200, { data: orderJson(created) });
    }

    const orderMatch = /^\/number_orders\/([^/]+)$/.exec(path);
    if (method === 'GET' && orderMatch) {
      const order = orders.get(decodeURIComponent(orderMatch[1]!));
      if (!order)
        return error(
          res,
          404,
          '10005',
          'Resource not found',
          'The requested resource or URL could not be found.',
        );
      settle(order);
      return send(res, 200, { data: orderJson(order) });
    }

    if (method === 'GET' && path === '/number_orders') {
      const reference = q.get('filter[customer_reference]');
      const data = [...orders.values()]
        .filter((o) => !reference || o.customer_reference === reference)
        .map(orderJson);
      return send(res, 200, {
        data,
        meta: { page_number: 1, page_size: 20, total_pages: 1, total_results: data.length },
      });
    }

    if (method === 'GET' && path === '/phone_numbers') {
      const size = Number(q.get('page[size]') ?? 20);
      const page = Number(q.get('page[number]') ?? 1);
      if (!(size >= 1 && size <= 250))
        return error(res, 400, '10015', 'Bad Request', 'page[size] must be between 1 and 250');
      const wanted = q.get('filter[phone_number]');
      const all = wanted
        ? [...owned.values()].filter((n) => n.phone_number === wanted)
        : ownedList();
      const key = `${page}:${size}`;
      const cached = wanted ? undefined : ownedCache?.pages.get(key);
      if (cached !== undefined) return sendText(res, 200, cached);
      const data = all.slice((page - 1) * size, page * size).map((n) => ({
        ...n,
        record_type: 'phone_number',
        status: 'active',
        country_iso_alpha2: 'US',
      }));
      const payload = JSON.stringify({
        data,
        meta: {
          page_number: page,
          page_size: size,
          total_pages: Math.max(1, Math.ceil(all.length / size)),
          total_results: all.length,
        },
      });
      if (!wanted) ownedCache?.pages.set(key, payload);
      return sendText(res, 200, payload);
    }

    const numberMatch = /^\/phone_numbers\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && numberMatch) {
      const number = owned.get(decodeURIComponent(numberMatch[1]!));
      if (!number)
        return error(
          res,
          404,
          '10005',
          'Resource not found',
          'The requested resource or URL could not be found.',
        );
      if (number.deletion_lock_enabled) {
        return error(
          res,
          422,
          '10015',
          'Deletion lock enabled',
          'Phone number has deletion lock enabled and cannot be deleted.',
        );
      }
      owned.delete(number.id);
      return send(res, 200, {
        data: { ...number, record_type: 'phone_number', status: 'deleted' },
      });
    }

    return error(res, 404, '10005', 'Resource not found', `No route ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const prefix = new URL(req.url ?? '/', 'http://scenario').pathname.replace(/^\/v2(?=\/)/, '');
      const now = (inFlight.get(prefix) ?? 0) + 1;
      inFlight.set(prefix, now);
      peak.set(prefix, Math.max(peak.get(prefix) ?? 0, now));
      const done = () => inFlight.set(prefix, (inFlight.get(prefix) ?? 1) - 1);
      res.on('close', done);
      const run = () =>
        handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
          if (!res.headersSent)
            send(res, 500, {
              errors: [{ code: '10007', title: 'Scenario bug', detail: String(err) }],
            });
        });
      if (options.latencyMs > 0) dueAt.set(res, performance.now() + options.latencyMs);
      void run();
    });
  });
  const http = await listenLocal(server);

  return {
    url: http.url,
    requests,
    inventory,
    owned,
    orders,
    reservations,
    options,
    maxInFlight: (pathPrefix) => peak.get(pathPrefix) ?? 0,
    fault: (fault) => faults.push({ times: 1, ...fault }),
    takeElsewhere: (e164) => void inventory.delete(e164),
    close: () => {
      for (const res of hanging) res.destroy();
      return http.close();
    },
  };
}
