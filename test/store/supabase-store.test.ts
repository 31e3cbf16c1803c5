/**
 * The supabase-js store against the PostgREST fake (test/helpers/postgrest-fake.ts, which says
 * what it covers), here on PGlite so it always runs; the store contract and race suites also run
 * it on PostgreSQL when TEST_DATABASE_URL is set (test/helpers/stores.ts).
 *
 * What is specific to this store: filter values never become filter syntax, errors name the fix
 * (schema not exposed, wrong key, migrations missing, unreachable) and never carry the key, RLS
 * applies to a signed-in user's token through the same API, and openStore picks this store.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { Store } from '../../src/core/ports.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { openSupabaseStore, SupabaseStore } from '../../src/store/supabase-store.js';
import { listenLocal } from '../helpers/local-http.js';
import { fakeSupabaseKey, freshSupabase, startPostgrestFake } from '../helpers/postgrest-fake.js';
import type { PostgrestFake } from '../helpers/postgrest-fake.js';
import { freshPglite } from '../helpers/stores.js';
import { auditEvent, sandboxQuote, TEST_NOW } from '../helpers/fixtures.js';

// Now, to the minute: the database compares some times with its own clock.
const NOW = TEST_NOW;
const SERVICE_KEY = fakeSupabaseKey('service_role');

const quote = (id: string, e164: string) => sandboxQuote(id, e164, { monthlyCost: 1.15 });

const event = (actor: string, target: string | null) => auditEvent(actor, 'claim', { target });

type Fakeful = SupabaseStore & { fake: PostgrestFake; db: SqlExecutor };

describe('supabase-js store through the PostgREST fake (PGlite)', () => {
  let store: Fakeful;
  beforeAll(async () => {
    store = (await freshSupabase<SqlStore>(freshPglite)) as unknown as Fakeful;
    await store.saveQuotes([quote('Q-1', '+14155550100')]);
    await store.createPurchaseRequest({
      id: 'R-1',
      requester: 'U01ALICE',
      surface: 'cli',
      quoteId: 'Q-1',
      areaCode: null,
      reason: 'test',
      expiresAt: new Date(NOW.getTime() + 60 * 60_000),
      memberCap: null,
      monthlyBudget: null,
      now: NOW,
    });
    await store.recordAudit(event('U01ALICE', '+14155550100'));
    await store.recordAudit(event('U01CAROL', null));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('is the supabase kind, writes through rpc and reads through the query builder', async () => {
    expect(store.kind).toBe('supabase');
    expect(await store.getRequest('R-1')).toMatchObject({
      id: 'R-1',
      status: 'pending',
      monthlyCost: 1.15,
      e164: '+14155550100',
      expiresAt: new Date(NOW.getTime() + 60 * 60_000),
    });
    const paths = store.fake.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('POST /rest/v1/rpc/create_purchase_request');
    expect(paths).toContain('GET /rest/v1/requests');
    // Only rpc writes: no POST, PATCH or DELETE on a table.
    expect(paths.filter((p) => !p.startsWith('GET') && !p.includes('/rpc/'))).toEqual([]);
    // The service role key, as Supabase's gateway passes it on.
    expect(new Set(store.fake.requests.map((r) => r.role))).toEqual(new Set(['service_role']));
  });

  it('keeps filter values as values: PostgREST syntax in input matches nothing', async () => {
    expect((await store.listAudit({ actor: 'U01ALICE' })).length).toBe(1);
    for (const actor of ['U01ALICE,actor.neq.x', 'x)&or=(actor.neq.x', 'eq.U01ALICE', '*']) {
      expect(await store.listAudit({ actor }), actor).toEqual([]);
    }
    expect(await store.listRequests({ requester: 'x),or=(requester.neq.x' })).toEqual([]);
    expect(await store.listRequests({ requester: 'U01ALICE' })).toHaveLength(1);
    // A "+" in a number survives the query string.
    expect(await store.findQuote('+14155550100', NOW)).toMatchObject({ id: 'Q-1' });
    const sent = store.fake.requests.filter((r) => r.path === '/rest/v1/audit_events');
    const params = sent.map((r) => [...new URLSearchParams(r.query).keys()]);
    for (const keys of params) expect(keys.every((k) => !['or', 'and'].includes(k))).toBe(true);
  });

  it('takes leases through rpc', async () => {
    expect(await store.tryLease('job:x', 'a', 60_000)).toBe(true);
    expect(await store.tryLease('job:x', 'b', 60_000)).toBe(false);
    await store.releaseLease('job:x', 'a');
    expect(await store.tryLease('job:x', 'b', 60_000)).toBe(true);
  });

  it('lets a signed-in user read through the same API only what row-level security allows', async () => {
    const alice = '11111111-1111-4111-8111-111111111111';
    await store.db.query(`select switchboard.link_auth_user('U01ALICE', $1::uuid)`, [alice]);
    const get = (key: string, path: string) =>
      fetch(`${store.fake.url}/rest/v1/${path}`, {
        headers: { apikey: key, authorization: `Bearer ${key}`, 'accept-profile': 'switchboard' },
      });
    const mine = await get(fakeSupabaseKey('authenticated', alice), 'audit_events?select=actor');
    expect(await mine.json()).toEqual([{ actor: 'U01ALICE' }]);
    const quotes = await get(fakeSupabaseKey('authenticated', alice), 'quotes?select=id');
    expect(quotes.status).toBe(403);
    const anon = await get(fakeSupabaseKey('anon'), 'requests?select=id');
    expect(anon.status).toBe(401);
    const write = await fetch(`${store.fake.url}/rest/v1/rpc/decide_request`, {
      method: 'POST',
      headers: {
        apikey: 'x',
        authorization: `Bearer ${fakeSupabaseKey('authenticated', alice)}`,
        'content-profile': 'switchboard',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        p_id: 'R-1',
        p_decider: 'U01ALICE',
        p_approve: true,
        p_note: null,
        p_now: NOW.toISOString(),
      }),
    });
    expect(write.status).toBe(403);
    expect((await store.getRequest('R-1'))?.status).toBe('pending');
  });
});

/** The methods the store contract suite does not cover, run the same way on two stores. */
async function scenario(store: Store): Promise<unknown[]> {
  const out: unknown[] = [];
  const hash = 'a'.repeat(64);
  out.push(
    await store.createApiToken({
      name: 'ci-bot',
      role: 'reader',
      tokenHash: hash,
      createdBy: 'U01ADMIN',
      now: NOW,
    }),
  );
  out.push(await store.findApiTokenByHash(hash));
  await store.touchApiToken(1, NOW);
  out.push(await store.listApiTokens());
  out.push(await store.revokeApiToken('ci-bot', NOW));
  out.push(await store.findApiTokenByHash(hash));

  await store.saveQuotes([quote('Q-P', '+14155550199')]);
  out.push(
    await store.createPurchaseRequest({
      id: 'R-P',
      requester: 'U01ALICE',
      surface: 'slack',
      quoteId: 'Q-P',
      areaCode: '415',
      reason: null,
      expiresAt: new Date(NOW.getTime() + 60 * 60_000),
      memberCap: null,
      monthlyBudget: null,
      now: NOW,
      provision: { fallback: 'region', agent: 'retell:agent_1' },
    }),
  );
  out.push((await store.listRequests({ linkPending: true })).map((r) => r.id));
  out.push(await store.setRequestLink('R-P', 'failed', 'platform down', NOW));
  out.push(await store.setRequestLink('R-P', 'linked', null, NOW));
  out.push((await store.listRequests({ linkPending: true })).map((r) => r.id));

  await store.saveSlackMessage({
    requestId: 'R-P',
    channel: 'C0APPROVALS',
    ts: '1.0001',
    renderedStatus: 'pending',
  });
  out.push(await store.listSlackMessages('R-P'));
  out.push(await store.listStaleSlackMessages(10));
  await store.decideRequest('R-P', 'U01BOB', false, 'no', NOW);
  out.push(await store.listStaleSlackMessages(10));
  out.push(await store.claimSlackMessage('C0APPROVALS', '1.0001', 'pending', 'denied'));
  out.push(await store.claimSlackMessage('C0APPROVALS', '1.0001', 'pending', 'denied'));

  const owned = {
    e164: '+13125550123',
    carrierRef: 'sbx-1',
    carrierAccount: null,
    country: 'US',
    region: 'IL',
    locality: 'Chicago',
    numberType: 'local' as const,
    features: ['voice' as const],
    monthlyCost: 1.15,
    upfrontCost: 1,
    currency: 'USD',
  };
  out.push(await store.importNumber('sandbox', owned, NOW));
  out.push(await store.importNumber('sandbox', owned, NOW));
  out.push(await store.getNumber('+13125550123'));
  return out;
}

describe('supabase-js store and SqlStore give the same answers', () => {
  it('for API tokens, provisioning and Slack message refs', async () => {
    const sql = await freshPglite();
    const supabase = await freshSupabase<SqlStore>(freshPglite);
    try {
      const expected = await scenario(sql);
      expect(await scenario(supabase)).toEqual(expected);
      // The scenario does reach each outcome (so equal answers are not two empty lists).
      expect(expected).toMatchObject([
        { status: 'created', token: { name: 'ci-bot' } },
        { name: 'ci-bot' },
        [{ name: 'ci-bot' }],
        { status: 'revoked' },
        null,
        { status: 'created', request: { id: 'R-P' } },
        ['R-P'],
        { status: 'ok' },
        { status: 'ok' },
        [],
        [{ requestId: 'R-P', renderedStatus: 'pending' }],
        [],
        [{ requestId: 'R-P', request: { status: 'denied' } }],
        true,
        false,
        { status: 'imported', number: { e164: '+13125550123', source: 'import' } },
        { status: 'exists' },
        { status: 'available' },
      ]);
      // No token hash leaves either store.
      expect(JSON.stringify(expected)).not.toContain('a'.repeat(64));
    } finally {
      await sql.close();
      await supabase.close();
    }
  });
});

describe('supabase-js store errors name the fix and never the key', () => {
  let base: SqlStore;
  beforeAll(async () => {
    base = await freshPglite();
  });
  afterAll(async () => {
    await base?.close();
  });
  const db = () => (base as unknown as { db: SqlExecutor }).db;

  async function openError(
    fake: { url: string },
    key: string,
    extra: Partial<Parameters<typeof openSupabaseStore>[0]> = {},
  ) {
    const error = await openSupabaseStore({ url: fake.url, serviceRoleKey: key, ...extra }).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error).not.toBeNull();
    expect(error!.message).not.toContain(key);
    expect(error!.message).not.toContain('not-a-real-signature');
    return error!;
  }

  it('a schema the API does not expose: says where to expose it', async () => {
    const fake = await startPostgrestFake({ db: db(), exposedSchemas: ['public'] });
    try {
      const error = await openError(fake, SERVICE_KEY);
      expect(error.code).toBe('UNAVAILABLE');
      expect(error.message).toContain('Exposed schemas');
      expect(error.message).toContain('switchboard');
    } finally {
      await fake.close();
    }
  });

  it('the anon key instead of the service role key: says which key to use', async () => {
    const fake = await startPostgrestFake({ db: db() });
    try {
      const error = await openError(fake, fakeSupabaseKey('anon'));
      expect(error.code).toBe('UNAVAILABLE');
      expect(error.message).toContain('service_role');
      expect(await openError(fake, 'sb_secret_not-a-jwt-not-real')).toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringContaining('SUPABASE_SERVICE_ROLE_KEY'),
      });
    } finally {
      await fake.close();
    }
  });

  it('a database without the latest migration: names it and how to apply it', async () => {
    const fake = await startPostgrestFake({ db: db() });
    try {
      const error = await openError(fake, SERVICE_KEY, {
        migrations: ['001_init.sql', '999_from_the_future.sql'],
      });
      expect(error.message).toContain('999_from_the_future.sql');
      expect(error.message).not.toContain('001_init.sql');
      expect(error.message).toContain('switchboard migrate');
      expect(error.message).toContain('DATABASE_URL');
    } finally {
      await fake.close();
    }
  });

  it('an unreachable SUPABASE_URL: says so', async () => {
    const closed = await listenLocal(createServer());
    await closed.close();
    const error = await openError(closed, SERVICE_KEY, { retryReads: false });
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('unreachable');
    expect(error.message).toContain('SUPABASE_URL');
  });
});

describe('openStore picks the store from the environment', () => {
  it('SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY: the supabase-js store', async () => {
    const base = await freshPglite();
    const fake = await startPostgrestFake({ db: (base as unknown as { db: SqlExecutor }).db });
    try {
      const { store, label } = await openStore(
        loadConfig({ SUPABASE_URL: fake.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY }),
      );
      expect(store.kind).toBe('supabase');
      expect(store).toBeInstanceOf(SupabaseStore);
      expect(label).toBe(`supabase (${new URL(fake.url).host})`);
      expect(label).not.toContain(SERVICE_KEY);
      await store.close();
    } finally {
      await fake.close();
      await base.close();
    }
  });

  it('DATABASE_URL wins over SUPABASE_URL when both are set', async () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      SUPABASE_URL: 'http://127.0.0.1:1',
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    });
    // The postgres store is tried (and fails to connect): the Supabase one is not.
    await expect(openStore(config)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('DATABASE_URL'),
    });
  });
});
