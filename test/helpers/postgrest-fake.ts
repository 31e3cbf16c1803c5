/**
 * A small PostgREST stand-in for testing the supabase-js store: it answers the REST and RPC calls
 * that store makes by running them on a real database (the test PostgreSQL, or PGlite), in a
 * transaction per request under the role named by the bearer JWT, as PostgREST does.
 *
 * Covers (and checks, answering 400 "not supported by the fake" to anything else):
 * - `GET /rest/v1/<table>`: `select=*` or a list of plain columns; filters `eq neq gt gte lt lte`,
 *   `is.null|true|false`, `in.(…)` (with PostgREST's double-quoted values), `not.<op>.…`, on a
 *   column or a JSON path in it (`detail->>key`, `detail->key->>0`: `->` gives json, `->>` text,
 *   a key of digits, optionally negative, is an array index, as in PostgREST);
 *   `order=col[.asc|.desc][.nullsfirst|.nullslast],…`; `limit`, `offset`. Filter values are
 *   always SQL parameters; table and column names must be plain identifiers of the schema, JSON
 *   keys letters, digits, `_` and `$`.
 * - `POST /rest/v1/rpc/<function>` with a JSON object of named arguments, bound by name through
 *   `json_to_record` like PostgREST does (so JSON arrays become SQL arrays); a void function
 *   answers 204, others the function's value as JSON.
 * - Profiles: `Accept-Profile` (GET) / `Content-Profile` (POST) pick the schema; a schema not in
 *   `exposedSchemas` answers 406 PGRST106, like a Supabase project that has not exposed it.
 * - Auth: `apikey` must be present; the bearer JWT's payload `role` (anon, authenticated,
 *   service_role) becomes `set local role`, its claims `request.jwt.claims`. The signature is
 *   NOT verified. No JWT, or a malformed one: 401 PGRST301.
 * - Errors: PostgREST's body `{code, message, details, hint}` with its usual statuses (42501:
 *   401 for anon, 403 otherwise; 23505: 409; unknown function 404 PGRST202; unknown table 404
 *   PGRST205; other database errors 400).
 *
 * Does not cover: writes through tables (POST/PATCH/DELETE on /rest/v1/<table>), embedding,
 * `or=`/`and=` logic trees, full-text and range operators, `Prefer` headers, counting, single-
 * object responses (`Accept: application/vnd.pgrst.object+json`), function overloading, GET rpc,
 * the schema cache and its reloads, JWT signatures and expiry, the Supabase gateway (Kong) and
 * its rate limits, and realtime.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SqlExecutor } from '../../src/store/sql.js';
import { listenLocal, readBody } from './local-http.js';

export interface PostgrestFake {
  url: string;
  /** Every request seen: method, path and query as sent. */
  requests: Array<{ method: string; path: string; query: string; role: string }>;
  close(): Promise<void>;
}

export interface PostgrestFakeOptions {
  db: SqlExecutor;
  exposedSchemas?: string[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code: string; message: string; details?: string | null; hint?: string | null },
  ) {
    super(body.message);
  }
}

const IDENT = /^[a-z_][a-z0-9_]*$/;
const ROLES = new Set(['anon', 'authenticated', 'service_role']);
const OPS: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

const unsupported = (what: string) =>
  new HttpError(400, { code: 'FAKE400', message: `not supported by the PostgREST fake: ${what}` });

function ident(name: string, what: string): string {
  if (!IDENT.test(name)) throw unsupported(`${what} "${name}"`);
  return `"${name}"`;
}

const JSON_KEY = /^[A-Za-z0-9_$]+$/;
const JSON_INDEX = /^-?\d+$/;

/**
 * A filter's column with its JSON path, as PostgREST writes it: `detail->>onBehalfOf` is
 * `"detail"->>'onBehalfOf'`, `tags->0` is `"tags"->(0)`. Keys are literals, checked by JSON_KEY.
 */
function filterColumn(text: string): string {
  const [column, ...rest] = text.split(/(->>?)/);
  let sql = ident(column!, 'filter column');
  for (let i = 0; i < rest.length; i += 2) {
    const arrow = rest[i]!;
    const key = rest[i + 1] ?? '';
    if (JSON_INDEX.test(key)) sql += `${arrow}(${Number(key)})`;
    else if (JSON_KEY.test(key)) sql += `${arrow}'${key}'`;
    else throw unsupported(`JSON key "${key}" in ${text}`);
  }
  return sql;
}

/** Splits PostgREST's `in.(a,"b,c",d)` list. */
function parseList(text: string): string[] {
  if (!text.startsWith('(') || !text.endsWith(')')) throw unsupported(`in list ${text}`);
  const body = text.slice(1, -1);
  const values: string[] = [];
  let i = 0;
  while (i <= body.length) {
    if (body[i] === '"') {
      const end = body.indexOf('"', i + 1);
      if (end < 0) throw unsupported(`unterminated quote in ${text}`);
      values.push(body.slice(i + 1, end));
      i = end + 2;
    } else {
      const end = body.indexOf(',', i);
      values.push(body.slice(i, end < 0 ? body.length : end));
      i = end < 0 ? body.length + 1 : end + 1;
    }
  }
  return body === '' ? [] : values;
}

function decodeRole(req: IncomingMessage): { role: string; claims: Record<string, unknown> } {
  if (!req.headers.apikey)
    throw new HttpError(401, { code: 'PGRST301', message: 'No API key found in request' });
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  let claims: Record<string, unknown> | undefined;
  try {
    claims = payload ? JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) : undefined;
  } catch {
    claims = undefined;
  }
  const role = claims?.role;
  if (!claims || typeof role !== 'string' || !ROLES.has(role))
    throw new HttpError(401, { code: 'PGRST301', message: 'Invalid JWT' });
  return { role, claims };
}

function schemaOf(req: IncomingMessage, exposed: string[]): string {
  const header = req.method === 'GET' ? 'accept-profile' : 'content-profile';
  const schema = (req.headers[header] as string | undefined) ?? exposed[0]!;
  if (!exposed.includes(schema))
    throw new HttpError(406, {
      code: 'PGRST106',
      message: `Invalid schema: ${schema}`,
      details: null,
      hint: `Only the following schemas are exposed: ${exposed.join(', ')}`,
    });
  return schema;
}

async function asRole<T>(
  db: SqlExecutor,
  role: string,
  claims: Record<string, unknown>,
  fn: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
    await tx.exec(`set local role ${role}`);
    return fn(tx);
  });
}

function buildSelect(schema: string, table: string, params: URLSearchParams) {
  const values: unknown[] = [];
  const where: string[] = [];
  let columns = '*';
  let order = '';
  let limit = '';
  let offset = '';
  for (const [key, raw] of params) {
    if (key === 'select') {
      columns =
        raw === '*'
          ? '*'
          : raw
              .split(',')
              .map((c) => ident(c, 'column'))
              .join(', ');
    } else if (key === 'order') {
      order =
        ' order by ' +
        raw
          .split(',')
          .map((part) => {
            const [column, ...mods] = part.split('.');
            const sql = [ident(column!, 'order column')];
            for (const mod of mods) {
              if (mod === 'asc' || mod === 'desc') sql.push(mod);
              else if (mod === 'nullsfirst') sql.push('nulls first');
              else if (mod === 'nullslast') sql.push('nulls last');
              else throw unsupported(`order modifier ${mod}`);
            }
            return sql.join(' ');
          })
          .join(', ');
    } else if (key === 'limit' || key === 'offset') {
      if (!/^\d+$/.test(raw)) throw unsupported(`${key}=${raw}`);
      if (key === 'limit') limit = ` limit ${raw}`;
      else offset = ` offset ${raw}`;
    } else {
      const column = filterColumn(key);
      let rest = raw;
      let negate = false;
      if (rest.startsWith('not.')) {
        negate = true;
        rest = rest.slice(4);
      }
      const dot = rest.indexOf('.');
      const op = dot < 0 ? rest : rest.slice(0, dot);
      const value = dot < 0 ? '' : rest.slice(dot + 1);
      let condition: string;
      if (OPS[op]) {
        values.push(value);
        condition = `${column} ${OPS[op]} $${values.length}`;
      } else if (op === 'is') {
        if (!['null', 'true', 'false'].includes(value)) throw unsupported(`is.${value}`);
        condition = `${column} is ${value}`;
      } else if (op === 'in') {
        const list = parseList(value);
        const placeholders = list.map((item) => {
          values.push(item);
          return `$${values.length}`;
        });
        condition = list.length ? `${column} in (${placeholders.join(', ')})` : 'false';
      } else {
        throw unsupported(`operator ${op}`);
      }
      where.push(negate ? `not (${condition})` : condition);
    }
  }
  const text =
    `select coalesce(json_agg(t), '[]'::json) as r from (select ${columns} from ` +
    `${ident(schema, 'schema')}.${ident(table, 'table')}` +
    `${where.length ? ` where ${where.join(' and ')}` : ''}${order}${limit}${offset}) t`;
  return { text, values };
}

async function callFunction(
  tx: SqlExecutor,
  schema: string,
  name: string,
  args: Record<string, unknown>,
): Promise<{ void: boolean; value: unknown }> {
  const found = await tx.query<{ names: string[] | null; types: string[]; result: string }>(
    `select p.proargnames as names,
            array(select format_type(t, null) from unnest(p.proargtypes) t) as types,
            format_type(p.prorettype, null) as result
     from pg_proc p where p.pronamespace = to_regnamespace($1) and p.proname = $2`,
    [schema, name],
  );
  if (found.length !== 1) {
    throw new HttpError(404, {
      code: 'PGRST202',
      message: `Could not find the function ${schema}.${name}(${Object.keys(args).join(', ')}) in the schema cache`,
    });
  }
  const { names, types, result } = found[0]!;
  const declared = (names ?? []).slice(0, types.length);
  const unknown = Object.keys(args).filter((key) => !declared.includes(key));
  if (unknown.length > 0) {
    throw new HttpError(404, {
      code: 'PGRST202',
      message: `Could not find the function ${schema}.${name}(${Object.keys(args).join(', ')}) in the schema cache`,
    });
  }
  const given = declared.filter((arg) => arg in args);
  const call = `${ident(schema, 'schema')}.${ident(name, 'function')}(${given
    .map((arg) => `${ident(arg, 'argument')} => _.${ident(arg, 'argument')}`)
    .join(', ')})`;
  const record = given.map((arg) => `${ident(arg, 'argument')} ${types[declared.indexOf(arg)]}`);
  const from = given.length
    ? ` from json_to_record($1::text::json) as _(${record.join(', ')})`
    : '';
  const rows = await tx.query<{ r: unknown }>(
    `select to_json(${call}) as r${from}`,
    given.length ? [JSON.stringify(args)] : [],
  );
  return { void: result === 'void', value: rows[0]?.r ?? null };
}

function sendError(res: ServerResponse, error: unknown, role: string) {
  if (error instanceof HttpError) {
    res.writeHead(error.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ details: null, hint: null, ...error.body }));
    return;
  }
  const e = error as { code?: string; message?: string; detail?: string; hint?: string };
  const code = e.code ?? 'XX000';
  const status =
    code === '42501'
      ? role === 'anon'
        ? 401
        : 403
      : code === '23505'
        ? 409
        : code === '42P01'
          ? 404
          : 400;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      code: code === '42P01' ? 'PGRST205' : code,
      message: e.message ?? 'database error',
      details: e.detail ?? null,
      hint: e.hint ?? null,
    }),
  );
}

export async function startPostgrestFake(options: PostgrestFakeOptions): Promise<PostgrestFake> {
  const exposed = options.exposedSchemas ?? ['public', 'graphql_public', 'switchboard'];
  const requests: PostgrestFake['requests'] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      let role = 'anon';
      try {
        const auth = decodeRole(req);
        role = auth.role;
        requests.push({
          method: req.method ?? '',
          path: url.pathname,
          query: url.search,
          role,
        });
        const schema = schemaOf(req, exposed);
        const rpc = /^\/rest\/v1\/rpc\/([^/]+)$/.exec(url.pathname);
        const table = /^\/rest\/v1\/([^/]+)$/.exec(url.pathname);
        if (req.method === 'POST' && rpc) {
          const body = await readBody(req);
          const args = body ? (JSON.parse(body) as Record<string, unknown>) : {};
          const result = await asRole(options.db, role, auth.claims, (tx) =>
            callFunction(tx, schema, rpc[1]!, args),
          );
          if (result.void) {
            res.writeHead(204).end();
          } else {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(result.value));
          }
        } else if (req.method === 'GET' && table) {
          if ((req.headers.accept ?? '').includes('vnd.pgrst.object'))
            throw unsupported('single-object responses');
          const { text, values } = buildSelect(schema, table[1]!, url.searchParams);
          const rows = await asRole(options.db, role, auth.claims, (tx) =>
            tx.query<{ r: unknown }>(text, values),
          );
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(rows[0]?.r ?? []));
        } else {
          throw unsupported(`${req.method} ${url.pathname}`);
        }
      } catch (error) {
        sendError(res, error, role);
      }
    })();
  });
  const listening = await listenLocal(server);
  return { url: listening.url, requests, close: listening.close };
}

/** An unsigned JWT of the shape Supabase's keys have; obviously not a real key. */
export function fakeSupabaseKey(role: 'anon' | 'service_role' | 'authenticated', sub?: string) {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ role, iss: 'switchboard-test', ...(sub ? { sub } : {}) })}.not-a-real-signature`;
}

/**
 * A SupabaseStore talking to the fake, which runs on a fresh database from `base` (freshPostgres or
 * freshPglite). Typed as the base store so that the store contract suite can run it; like the base
 * store it exposes `db` (the suite re-runs migrations on it) and drops everything on close().
 */
export async function freshSupabase<S extends { close(): Promise<void> }>(
  base: () => Promise<S>,
  options: { exposedSchemas?: string[] } = {},
): Promise<S> {
  // Loaded here, not at the top: every test file that imports test/helpers/stores.ts would
  // otherwise load supabase-js (and see its Node 20 notice).
  const { openSupabaseStore } = await import('../../src/store/supabase-store.js');
  const sql = await base();
  const db = (sql as unknown as { db: SqlExecutor }).db;
  const fake = await startPostgrestFake({ db, ...options });
  try {
    const store = await openSupabaseStore({
      url: fake.url,
      serviceRoleKey: fakeSupabaseKey('service_role'),
    });
    const close = store.close.bind(store);
    return Object.assign(store, {
      db,
      fake,
      close: async () => {
        await close();
        await fake.close();
        await sql.close();
      },
    }) as unknown as S;
  } catch (error) {
    await fake.close();
    await sql.close();
    throw error;
  }
}
