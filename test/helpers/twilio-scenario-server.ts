/**
 * A small stateful stand-in for Twilio (API 2010-04-01 and Pricing v1 on one origin), for what a
 * canned Prism mock cannot show: paging to the last page through next_page_uri, a 429 and then
 * success, a number someone else bought, the 201 `in-use` answer for a number the account already
 * owns, subaccounts, a malformed body, a request that never gets an answer.
 *
 * It answers like Twilio: Basic auth (20003 when wrong), `{ code, message, more_info, status }`
 * error bodies, `next_page_uri` paging with PageSize up to 1000 (20007 above), 21422 for a number
 * that is not available. It refuses `AreaCode` on a purchase outright so that a regression cannot
 * buy "any number in 415" instead of the approved one.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from './local-http.js';

export const TWILIO_TEST_SID = `AC${'0'.repeat(32)}`;
export const TWILIO_TEST_TOKEN = 'TOKEN_TEST_FAKE_TWILIO';
export const TWILIO_TEST_SUBACCOUNT = `AC${'5'.repeat(32)}`;

type NumberType = 'local' | 'toll-free' | 'mobile';

export interface ScenarioAvailable {
  phoneNumber: string;
  type: NumberType;
  isoCountry: string;
  region: string;
  locality: string;
  voice: boolean;
  sms: boolean;
  mms: boolean;
}

export interface ScenarioOwned {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  trunkSid: string | null;
  dateCreated: Date;
}

export interface ScenarioAccount {
  sid: string;
  friendlyName: string;
  status: 'active' | 'suspended' | 'closed';
}

export interface TwilioFault {
  /** Answer with this status (429, 500, 503…). */
  status?: number;
  /** Twilio's error code in the body (20429 for the concurrency limit). */
  code?: number;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** Never answer: the client's timeout decides. */
  hang?: boolean;
  /** Answer 2xx with a body that is not JSON. */
  malformed?: boolean;
  /** Do the work first, then answer with the fault (an answer lost after Twilio acted). */
  afterCommit?: boolean;
  /** How many requests in a row get the fault (default 1). */
  times?: number;
  /** Let this many matching requests through before the fault starts. */
  after?: number;
}

export interface RecordedTwilioRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  status: number;
}

export interface TwilioScenarioOptions {
  /** Numbers the main account owns at the start (generated in 650 when a count is given). */
  owned?: number;
  /** Numbers a subaccount (TWILIO_TEST_SUBACCOUNT) owns at the start. */
  subaccountOwned?: number;
  available?: ScenarioAvailable[];
  /** Monthly prices per Pricing API number type, per country. */
  prices?: Record<string, Record<string, string>>;
  /** An API key (SK…) and secret accepted besides the account SID and auth token. */
  apiKey?: { sid: string; secret: string };
}

export interface TwilioScenarioServer {
  url: string;
  owned: Map<string, ScenarioOwned>;
  available: Map<string, ScenarioAvailable>;
  accounts: Map<string, ScenarioAccount>;
  requests: RecordedTwilioRequest[];
  /** The next matching request (`'POST /IncomingPhoneNumbers.json'`: method + path suffix) fails. */
  failNext(route: string, fault: TwilioFault): void;
  /** Someone else buys the number: it leaves the inventory. */
  takeElsewhere(e164: string): void;
  /**
   * Lists filtered by PhoneNumber lag behind purchases (they omit owned numbers), so an adapter
   * that trusts a pre-check alone meets the 201 `in-use` answer.
   */
  lagOwnedLookups: boolean;
  /** Requests whose "METHOD path" contains `text`. */
  count(text: string): number;
  close(): Promise<void>;
}

const MAX_PAGE_SIZE = 1000;

function hex(n: number, width = 32): string {
  return n.toString(16).padStart(width, '0');
}

export function defaultAvailable(): ScenarioAvailable[] {
  const out: ScenarioAvailable[] = [];
  for (let i = 0; i < 8; i++) {
    out.push({
      phoneNumber: `+1415555${String(1000 + i)}`,
      type: 'local',
      isoCountry: 'US',
      region: 'CA',
      locality: 'San Francisco',
      voice: true,
      sms: i % 2 === 0,
      mms: i % 4 === 0,
    });
    out.push({
      phoneNumber: `+1212555${String(2000 + i)}`,
      type: 'local',
      isoCountry: 'US',
      region: 'NY',
      locality: 'New York',
      voice: true,
      sms: true,
      mms: false,
    });
  }
  out.push({
    phoneNumber: '+18885550100',
    type: 'toll-free',
    isoCountry: 'US',
    region: '',
    locality: '',
    voice: true,
    sms: true,
    mms: false,
  });
  out.push({
    phoneNumber: '+14165550100',
    type: 'local',
    isoCountry: 'CA',
    region: 'ON',
    locality: 'Toronto',
    voice: true,
    sms: true,
    mms: false,
  });
  return out;
}

export const DEFAULT_PRICES: Record<string, Record<string, string>> = {
  US: { local: '1.15', 'toll free': '2.15', mobile: '1.15' },
  CA: { local: '1.15', 'toll free': '2.15' },
};

export async function startTwilioScenario(
  options: TwilioScenarioOptions = {},
): Promise<TwilioScenarioServer> {
  let sequence = 0x100;
  const owned = new Map<string, ScenarioOwned>();
  const available = new Map(
    (options.available ?? defaultAvailable()).map((a) => [a.phoneNumber, a]),
  );
  const accounts = new Map<string, ScenarioAccount>([
    [TWILIO_TEST_SID, { sid: TWILIO_TEST_SID, friendlyName: 'Switchboard test', status: 'active' }],
    [
      TWILIO_TEST_SUBACCOUNT,
      { sid: TWILIO_TEST_SUBACCOUNT, friendlyName: 'Support team', status: 'active' },
    ],
    [
      `AC${'c'.repeat(32)}`,
      { sid: `AC${'c'.repeat(32)}`, friendlyName: 'Old team', status: 'closed' },
    ],
  ]);
  const prices = options.prices ?? DEFAULT_PRICES;
  const requests: RecordedTwilioRequest[] = [];
  const faults: Array<{
    method: string;
    path: string;
    fault: TwilioFault;
    left: number;
    skip: number;
  }> = [];
  const hung = new Set<ServerResponse>();

  const addOwned = (
    accountSid: string,
    phoneNumber: string,
    friendlyName: string,
    trunkSid: string | null = null,
  ) => {
    const sid = `PN${hex(++sequence)}`;
    const entry = { sid, accountSid, phoneNumber, friendlyName, trunkSid, dateCreated: new Date() };
    owned.set(sid, entry);
    return entry;
  };
  for (let i = 0; i < (options.owned ?? 3); i++) {
    addOwned(TWILIO_TEST_SID, `+1650555${String(3000 + i)}`, `(650) 555-${3000 + i}`).dateCreated =
      new Date('2026-01-05T12:00:00Z');
  }
  for (let i = 0; i < (options.subaccountOwned ?? 1); i++) {
    addOwned(TWILIO_TEST_SUBACCOUNT, `+1650555${String(4000 + i)}`, `support ${i}`).dateCreated =
      new Date('2026-02-05T12:00:00Z');
  }

  const state = {
    url: '',
    owned,
    available,
    accounts,
    requests,
    lagOwnedLookups: false,
    failNext(route: string, fault: TwilioFault) {
      const [method, path] = route.split(' ');
      faults.push({
        method: method!.toUpperCase(),
        path: path ?? '',
        fault,
        left: fault.times ?? 1,
        skip: fault.after ?? 0,
      });
    },
    takeElsewhere(e164: string) {
      available.delete(e164);
    },
    count(text: string) {
      return requests.filter((r) => `${r.method} ${r.path}`.includes(text)).length;
    },
    close: async () => undefined as void,
  };

  const numberJson = (n: ScenarioOwned) => ({
    account_sid: n.accountSid,
    address_requirements: 'none',
    api_version: '2010-04-01',
    beta: false,
    capabilities: { voice: true, sms: true, mms: false, fax: false },
    date_created: n.dateCreated.toUTCString(),
    date_updated: n.dateCreated.toUTCString(),
    friendly_name: n.friendlyName,
    phone_number: n.phoneNumber,
    origin: 'twilio',
    sid: n.sid,
    status: 'in-use',
    trunk_sid: n.trunkSid,
    uri: `/2010-04-01/Accounts/${n.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
  });

  const accountJson = (a: ScenarioAccount) => ({
    auth_token: `SUBTOKEN_TEST_FAKE_${a.sid.slice(-4)}`,
    date_created: 'Mon, 05 Jan 2026 12:00:00 +0000',
    date_updated: 'Mon, 05 Jan 2026 12:00:00 +0000',
    friendly_name: a.friendlyName,
    owner_account_sid: TWILIO_TEST_SID,
    sid: a.sid,
    status: a.status,
    subresource_uris: {},
    type: 'Full',
    uri: `/2010-04-01/Accounts/${a.sid}.json`,
  });

  function error(
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    headers: Record<string, string> = {},
  ) {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(
      JSON.stringify({
        code,
        message,
        more_info: `https://www.twilio.com/docs/errors/${code}`,
        status,
      }),
    );
  }

  function json(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  /** A Twilio list page over `items`, with next_page_uri while more remain. */
  function page<T>(
    res: ServerResponse,
    path: string,
    query: Record<string, string>,
    key: string,
    items: T[],
  ): void {
    const size = query.PageSize ? Number(query.PageSize) : 50;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      return error(
        res,
        400,
        20007,
        `Invalid PageSize ${query.PageSize}: must be 1-${MAX_PAGE_SIZE}`,
      );
    }
    const number = query.Page ? Number(query.Page) : 0;
    const start = number * size;
    const slice = items.slice(start, start + size);
    const base = new URLSearchParams(
      Object.entries(query).filter(([k]) => !['Page', 'PageToken'].includes(k)),
    );
    base.set('PageSize', String(size));
    const uriFor = (n: number) => {
      const q = new URLSearchParams(base);
      q.set('Page', String(n));
      if (n > 0) q.set('PageToken', `PT${hex(n * size, 8)}`);
      return `${path}?${q.toString()}`;
    };
    json(res, 200, {
      [key]: slice,
      end: start + slice.length - 1,
      first_page_uri: uriFor(0),
      next_page_uri: start + size < items.length ? uriFor(number + 1) : null,
      page: number,
      page_size: size,
      previous_page_uri: number > 0 ? uriFor(number - 1) : null,
      start,
      uri: uriFor(number),
    });
  }

  function authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const basic = (user: string, pass: string) =>
      `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    if (header === basic(TWILIO_TEST_SID, TWILIO_TEST_TOKEN)) return true;
    return (
      options.apiKey !== undefined && header === basic(options.apiKey.sid, options.apiKey.secret)
    );
  }

  function visibleAccount(sid: string): boolean {
    return accounts.has(sid);
  }

  /** Does the work of a request; returns the answer to send (or sends it for lists). */
  function handle(
    method: string,
    path: string,
    query: Record<string, string>,
    form: Record<string, string>,
    res: ServerResponse,
  ): void {
    let m: RegExpExecArray | null;

    if ((m = /^\/v1\/PhoneNumbers\/Countries\/([A-Z]{2})$/.exec(path)) && method === 'GET') {
      const iso = m[1]!;
      const table = prices[iso];
      if (!table)
        return error(
          res,
          404,
          20404,
          `The requested resource /PhoneNumbers/Countries/${iso} was not found`,
        );
      return json(res, 200, {
        country: iso === 'US' ? 'United States' : 'Canada',
        iso_country: iso,
        phone_number_prices: Object.entries(table).map(([number_type, price]) => ({
          number_type,
          base_price: price,
          current_price: price,
        })),
        price_unit: 'USD',
        url: `https://pricing.twilio.com/v1/PhoneNumbers/Countries/${iso}`,
      });
    }

    if (path === '/2010-04-01/Accounts.json') {
      if (method === 'GET')
        return page(res, path, query, 'accounts', [...accounts.values()].map(accountJson));
      if (method === 'POST') {
        const name = form.FriendlyName ?? `SubAccount Created at ${new Date().toISOString()}`;
        const account: ScenarioAccount = {
          sid: `AC${hex(++sequence)}`,
          friendlyName: name,
          status: 'active',
        };
        accounts.set(account.sid, account);
        return json(res, 201, accountJson(account));
      }
    }

    if (
      (m =
        /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/AvailablePhoneNumbers\/([A-Z]{2})\/(Local|TollFree|Mobile)\.json$/.exec(
          path,
        )) &&
      method === 'GET'
    ) {
      if (!visibleAccount(m[1]!))
        return error(res, 404, 20404, 'The requested resource was not found');
      const type = m[3] === 'Local' ? 'local' : m[3] === 'TollFree' ? 'toll-free' : 'mobile';
      const country = m[2]!;
      const contains = query.Contains
        ? new RegExp(query.Contains.replace(/^\+/, '').replace(/\*/g, '\\d'))
        : null;
      const truthy = (v: string | undefined) => v === 'true' || v === 'True';
      const matches = [...available.values()].filter(
        (a) =>
          a.type === type &&
          a.isoCountry === country &&
          (!query.AreaCode || a.phoneNumber.slice(2, 5) === query.AreaCode) &&
          (!contains || contains.test(a.phoneNumber.slice(1))) &&
          (!query.InRegion || a.region === query.InRegion) &&
          (!query.InLocality || a.locality.toLowerCase() === query.InLocality.toLowerCase()) &&
          (!truthy(query.SmsEnabled) || a.sms) &&
          (!truthy(query.MmsEnabled) || a.mms) &&
          (!truthy(query.VoiceEnabled) || a.voice),
      );
      const limit = query.PageSize ? Number(query.PageSize) : 50;
      return json(res, 200, {
        uri: `${path}?${new URLSearchParams(query).toString()}`,
        available_phone_numbers: matches.slice(0, limit).map((a) => ({
          friendly_name: `(${a.phoneNumber.slice(2, 5)}) ${a.phoneNumber.slice(5, 8)}-${a.phoneNumber.slice(8)}`,
          phone_number: a.phoneNumber,
          lata: '722',
          locality: a.locality || null,
          rate_center: a.locality.toUpperCase() || null,
          latitude: '37.780000',
          longitude: '-122.410000',
          region: a.region || null,
          postal_code: null,
          iso_country: a.isoCountry,
          address_requirements: 'none',
          beta: false,
          // Searches spell SMS and MMS in capitals, owned numbers in lower case: like Twilio.
          capabilities: { voice: a.voice, SMS: a.sms, MMS: a.mms, fax: false },
        })),
      });
    }

    if ((m = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/IncomingPhoneNumbers\.json$/.exec(path))) {
      const accountSid = m[1]!;
      if (!visibleAccount(accountSid))
        return error(res, 404, 20404, 'The requested resource was not found');
      if (method === 'GET') {
        const mine = [...owned.values()].filter(
          (n) =>
            n.accountSid === accountSid &&
            (!query.PhoneNumber ||
              (n.phoneNumber === query.PhoneNumber && !state.lagOwnedLookups)) &&
            (!query.FriendlyName || n.friendlyName === query.FriendlyName),
        );
        return page(res, path, query, 'incoming_phone_numbers', mine.map(numberJson));
      }
      if (method === 'POST') {
        if (form.AreaCode !== undefined)
          return error(
            res,
            400,
            21999,
            'scenario server: a purchase must name PhoneNumber, never AreaCode',
          );
        const phone = form.PhoneNumber;
        if (!phone) return error(res, 400, 21451, 'A PhoneNumber or AreaCode is required');
        const existing = [...owned.values()].find(
          (n) => n.phoneNumber === phone && n.accountSid === accountSid,
        );
        // The trap: Twilio has answered 201 with the existing record for a number already owned.
        if (existing) return json(res, 201, numberJson(existing));
        if (!available.has(phone))
          return error(res, 400, 21422, `PhoneNumber ${phone} is not available`);
        available.delete(phone);
        const created = addOwned(
          accountSid,
          phone,
          form.FriendlyName ?? phone,
          form.TrunkSid ?? null,
        );
        return json(res, 201, numberJson(created));
      }
    }

    if (
      (m =
        /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(
          path,
        ))
    ) {
      const number = owned.get(m[2]!);
      if (!number || number.accountSid !== m[1]) {
        return error(res, 404, 20404, `The requested resource ${path} was not found`);
      }
      if (method === 'DELETE') {
        owned.delete(number.sid);
        res.writeHead(204);
        return void res.end();
      }
      if (method === 'GET') return json(res, 200, numberJson(number));
    }

    return error(res, 404, 20404, `The requested resource ${path} was not found`);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://scenario');
      const method = (req.method ?? 'GET').toUpperCase();
      const path = url.pathname;
      const query = Object.fromEntries(url.searchParams);
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const record: RecordedTwilioRequest = { method, path, query, form, status: 0 };
      requests.push(record);
      const end = res.end.bind(res);
      res.end = ((...args: Parameters<typeof res.end>) => {
        record.status = res.statusCode;
        return end(...args);
      }) as typeof res.end;

      if (!authorised(req)) return error(res, 401, 20003, 'Authenticate');
      const index = faults.findIndex((f) => f.method === method && path.endsWith(f.path));
      const entry = index >= 0 ? faults[index] : undefined;
      let fault: TwilioFault | undefined;
      if (entry && entry.skip > 0) entry.skip--;
      else if (entry) {
        fault = entry.fault;
        if (--entry.left <= 0) faults.splice(index, 1);
      }
      if (!fault) return handle(method, path, query, form, res);

      if (fault.afterCommit) {
        // Do the work into a throwaway response, then answer with the fault.
        const sink = {
          writeHead: () => sink,
          end: () => sink,
          statusCode: 0,
        } as unknown as ServerResponse;
        handle(method, path, query, form, sink);
      }
      if (fault.hang) {
        hung.add(res);
        return;
      }
      if (fault.malformed) {
        res.writeHead(method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        return void res.end('{"sid": "PN');
      }
      const status = fault.status ?? 500;
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      const code = fault.code ?? (status === 429 ? 20429 : 20500);
      return error(
        res,
        status,
        code,
        status === 429 ? 'Too Many Requests' : 'Internal Server Error',
        headers,
      );
    });
  });

  const http = await listenLocal(server);
  state.url = http.url;
  state.close = () => {
    for (const res of hung) res.destroy();
    return http.close();
  };
  return state;
}
