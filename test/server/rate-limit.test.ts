/**
 * Abuse (issue 8) through a real `serve` (in process): per-identity rate limits on Slack commands,
 * buttons and modals (identity: the Slack user id) and on MCP over HTTP (identity: the member a token acts for), and
 * request bodies over the limit refused on /slack/events and /mcp.
 *
 * Which limiter `serve` uses (migration 020): in memory on the embedded store, in the database on
 * PostgreSQL and Supabase (so replicas count together: test/server/replicas.test.ts); a database
 * that fails or hangs falls back to memory for that call, with a warning, and refuses nobody for
 * it. On PostgreSQL (TEST_DATABASE_URL), Slack and MCP both count in the database and the jobs
 * forget idle buckets.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { DEFAULT_RATE_LIMIT, loadConfig, rateLimitOf } from '../../src/config/config.js';
import type { Store } from '../../src/core/ports.js';
import { rateBucketIdleMs, rateLimiterFor } from '../../src/core/rate-limit.js';
import type { RateLimitDecision } from '../../src/core/rate-limit.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { makeDeps } from '../helpers/deps.js';
import { freshPostgres, TEST_DATABASE_URL } from '../helpers/stores.js';
import { ACTIONS, VIEWS } from '../../src/slack/registry.js';
import {
  actionBody,
  BOT_TOKEN,
  eventually,
  postSigned,
  SIGNING_SECRET,
  slashBody,
  startFakeSlack,
  textOf,
  viewSubmissionBody,
} from '../slack/fake-slack.js';
import type { FakeSlack } from '../slack/fake-slack.js';
import { startHarness } from '../slack/harness.js';
import type { Harness } from '../slack/harness.js';
import { mcpInitialize, postMcp } from '../helpers/mcp-raw.js';
import { makeMcpToken } from '../helpers/mcp-token.js';

const BURST = 3;
const SLOW_DOWN = /Slow down: too many requests from you\. Try again in (\d+) seconds?\./;

/** The wait a "slow down" answer names, in seconds (the limit refills one call a minute here). */
function secondsIn(text: string): number {
  const match = SLOW_DOWN.exec(text);
  expect(match, text).not.toBeNull();
  return Number(match![1]);
}

describe('rate-limit settings', () => {
  it('default to 60 a minute with a burst of 30, can be tuned, and 0 turns them off', () => {
    expect(rateLimitOf(loadConfig({}).env)).toEqual({ perMinute: 60, burst: 30 });
    expect(DEFAULT_RATE_LIMIT).toEqual({ perMinute: 60, burst: 30 });
    expect(
      rateLimitOf(
        loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '120', SWITCHBOARD_RATE_LIMIT_BURST: '5' })
          .env,
      ),
    ).toEqual({ perMinute: 120, burst: 5 });
    expect(rateLimitOf(loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '0' }).env)).toBeNull();
  });

  it('refuses a value that is not a number, naming the variable', () => {
    expect(() => loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(
      /SWITCHBOARD_RATE_LIMIT_PER_MINUTE: must be a number of requests a minute/,
    );
  });
});

describe('rate limits and body sizes through serve', () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await startHarness({
      env: {
        SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '1',
        SWITCHBOARD_RATE_LIMIT_BURST: String(BURST),
      },
    });
    base = h.server.url;
  });
  afterAll(async () => {
    await h?.close();
  });

  const auditCount = async (actor: string) =>
    (await h.deps.store.listAudit({ actor, limit: 100 })).length;

  /** Sends `/number list` as `user` and waits for its private answer. */
  async function listAs(user: string, id: string): Promise<void> {
    const res = await postSigned(base, slashBody(h.fake, user, 'list', id));
    expect(res.status).toBe(200);
    await eventually(() => h.fake.responses.find((r) => r.id === id), `the answer to ${id}`);
  }

  async function useUpBurst(user: string): Promise<void> {
    for (let i = 0; i < BURST; i++) await listAs(user, `${user}-burst-${i}`);
    expect(await auditCount(user)).toBe(BURST);
  }

  describe('Slack (per user id)', () => {
    it('a command over the limit gets an immediate private "slow down, try again in N s" and runs nothing', async () => {
      await useUpBurst('U01ALICE');
      const res = await postSigned(base, slashBody(h.fake, 'U01ALICE', 'list', 'alice-over'));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { response_type: string; text: string };
      expect(answer.response_type).toBe('ephemeral');
      const seconds = secondsIn(answer.text);
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(60);
      // Answered in the ack: no command ran, nothing was audited, no response_url was used.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await auditCount('U01ALICE')).toBe(BURST);
      expect(h.fake.responses.some((r) => r.id === 'alice-over')).toBe(false);
    });

    it('limits each member separately', async () => {
      await listAs('U01CAROL', 'carol-1');
      expect(await auditCount('U01CAROL')).toBe(1);
    });

    it('a button over the limit is acked and answered privately, and does nothing', async () => {
      await useUpBurst('U01DAVE');
      const res = await postSigned(
        base,
        actionBody(
          h.fake,
          'U01DAVE',
          { action_id: ACTIONS.release, value: JSON.stringify({ number: '+14155550142' }) },
          { id: 'dave-release' },
        ),
      );
      expect(res.status).toBe(200);
      const reply = await eventually(
        () => h.fake.responses.find((r) => r.id === 'dave-release'),
        'the slow-down answer',
      );
      expect(reply.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      secondsIn(textOf(reply.body.text));
      expect(await auditCount('U01DAVE')).toBe(BURST);
    });

    it('a modal submission over the limit shows the wait in the form and decides nothing', async () => {
      await useUpBurst('U01ERIN');
      const res = await postSigned(
        base,
        viewSubmissionBody('U01ERIN', VIEWS.denyModal, 'R-NOTAREAL1', 'too expensive'),
      );
      expect(res.status).toBe(200);
      const answer = (await res.json()) as {
        response_action: string;
        errors: Record<string, string>;
      };
      expect(answer.response_action).toBe('errors');
      secondsIn(answer.errors.reason ?? '');
      expect(await auditCount('U01ERIN')).toBe(BURST);
    });
  });

  describe('MCP over HTTP (per member a token acts for)', () => {
    const makeToken = (name: string, owner = 'U01RATE') =>
      makeMcpToken(h.deps.store, name, 'requester', owner);

    const post = (token: string, body: unknown, session?: string) =>
      postMcp(base, token, body, session);

    const initialize = mcpInitialize('rate-limit-test');

    it('answers a call over the limit with 429, Retry-After and a JSON-RPC error that says how long to wait', async () => {
      const token = await makeToken('busy-bot');
      const opened = await post(token, initialize);
      expect(opened.status).toBe(200);
      const session = opened.headers.get('mcp-session-id') as string;
      await opened.text();
      const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
      for (let i = 1; i < BURST; i++) {
        const ok = await post(token, { ...list, id: 2 + i }, session);
        expect(ok.status).toBe(200);
        await ok.text();
      }
      const refused = await post(token, { ...list, id: 99 }, session);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = (await refused.json()) as { jsonrpc: string; error: { message: string } };
      expect(body.jsonrpc).toBe('2.0');
      expect(secondsIn(body.error.message)).toBe(retryAfter);
    });

    it('limits each member separately, all their tokens together, and an SDK client over the limit sees the message', async () => {
      const token = await makeToken('patient-bot', 'U01PATIENT');
      for (let i = 0; i < BURST; i++) {
        const res = await post(token, initialize);
        expect(res.status).toBe(200);
        await res.text();
      }
      const client = new Client({ name: 'rate-limit-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      });
      const error = await client.connect(transport).then(
        () => null,
        (e: unknown) => e as Error,
      );
      await client.close().catch(() => undefined);
      expect(error?.message).toMatch(SLOW_DOWN);
      expect((error as Error & { code?: number }).code).toBe(429);

      // A second token of the same member shares the limit: it is not a second allowance.
      const second = await makeToken('patient-bot-2', 'U01PATIENT');
      const refused = await post(second, initialize);
      expect(refused.status).toBe(429);
      await refused.text();

      // Another member's token is not held back by this one.
      const other = await makeToken('other-bot', 'U01OTHER');
      const res = await post(other, initialize);
      expect(res.status).toBe(200);
      await res.text();
    });

    it('on the embedded store counts in memory: nothing is written to the buckets table', async () => {
      const db = (h.deps.store as unknown as { db: SqlExecutor }).db;
      const rows = await db.query('select key from switchboard.rate_buckets');
      expect(h.deps.store.kind).toBe('pglite');
      expect(rows).toEqual([]);
    });

    it('does not count requests without a valid token: they get 401 first', async () => {
      for (let i = 0; i < BURST + 2; i++) {
        const res = await post('sbt_not-a-real-token', initialize);
        expect(res.status).toBe(401);
        await res.text();
      }
    });
  });

  describe('request bodies', () => {
    const MB = 1024 * 1024;

    /** A body sent in chunks with no Content-Length, so only the reader can count it. */
    function chunked(size: number): ReadableStream<Uint8Array> {
      let left = size;
      return new ReadableStream({
        pull(controller) {
          const n = Math.min(left, 64 * 1024);
          if (n === 0) return controller.close();
          controller.enqueue(new Uint8Array(n).fill(0x61));
          left -= n;
        },
      });
    }

    it('refuses a signed Slack request over 1 MB with 413, before Bolt reads it', async () => {
      const res = await postSigned(base, `text=${'a'.repeat(MB)}`);
      expect(res.status).toBe(413);
      expect(await res.text()).toContain('over 1048576 bytes');
    });

    it('refuses an MCP request over 1 MB with 413, even with a valid token', async () => {
      const token = await makeMcpToken(h.deps.store, 'big-bodies', 'reader');
      const res = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', pad: 'x'.repeat(MB) }),
      });
      expect(res.status).toBe(413);
    });

    it('refuses a chunked Slack body over 1 MB (no Content-Length) with 413', async () => {
      const res = await fetch(`${base}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
          'x-slack-signature': 'v0=0',
        },
        body: chunked(2 * MB),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
    });

    it('refuses a chunked MCP body over 1 MiB (no Content-Length), as a declared one, and keeps serving', async () => {
      const token = await makeMcpToken(h.deps.store, 'chunked-bodies', 'reader');
      const res = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: chunked(2 * MB),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.text()).toContain('The request body is over 1 MiB');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    });

    it('lets a normal-sized request through to the signature check', async () => {
      const res = await fetch(`${base}/slack/events`, { method: 'POST', body: 'a=1' });
      expect(res.status).toBe(401);
    });
  });
});

// --- Which limiter serve uses (migration 020) ------------------------------------------------------

describe('the limiter serve picks for Slack and MCP (rateLimiterFor)', () => {
  const LIMITS = { perMinute: 1, burst: 2 };

  function fakeStore(kind: Store['kind'], rateTake: Store['rateTake']) {
    return { kind, rateTake: vi.fn(rateTake) };
  }

  function warnings() {
    const lines: Array<{ detail: Record<string, unknown>; message: string }> = [];
    return {
      lines,
      warn: (detail: Record<string, unknown>, message: string) =>
        void lines.push({ detail, message }),
    };
  }

  it('on the embedded store, counts in memory and never asks the store', () => {
    const store = fakeStore('pglite', () => Promise.resolve({ ok: true }));
    const limiter = rateLimiterFor(store, LIMITS);
    // Answers at once (no promise): Slack's ack on the embedded store waits for nothing.
    expect([1, 2, 3].map(() => limiter.take('slack-user:U01ALICE'))).toEqual([
      { ok: true },
      { ok: true },
      { ok: false, retryAfterMs: 60_000 },
    ]);
    expect(store.rateTake).not.toHaveBeenCalled();
  });

  it.each(['postgres', 'supabase'] as const)(
    'on %s, asks the store for every call with the key and the limits',
    async (kind) => {
      const store = fakeStore(kind, () => Promise.resolve({ ok: false, retryAfterMs: 1234 }));
      const limiter = rateLimiterFor(store, LIMITS);
      expect(await limiter.take('mcp-member:U01ALICE')).toEqual({ ok: false, retryAfterMs: 1234 });
      expect(await limiter.take('mcp-member:U01ALICE')).toEqual({ ok: false, retryAfterMs: 1234 });
      expect(store.rateTake.mock.calls).toEqual([
        ['mcp-member:U01ALICE', 1, 2],
        ['mcp-member:U01ALICE', 1, 2],
      ]);
    },
  );

  it('a store that fails: the call is counted in memory with the same limits, a warning is logged (at most one a minute), nothing throws', async () => {
    let now = 1_000_000;
    const store = fakeStore('postgres', () =>
      Promise.reject(
        new Error('The database is unreachable (connect ECONNREFUSED 127.0.0.1:5432).'),
      ),
    );
    const log = warnings();
    const limiter = rateLimiterFor(store, LIMITS, log, { now: () => now });
    const answers: RateLimitDecision[] = [];
    for (let i = 0; i < 3; i++) answers.push(await limiter.take('mcp-member:U01ALICE'));
    expect(answers).toEqual([{ ok: true }, { ok: true }, { ok: false, retryAfterMs: 60_000 }]);
    expect(await limiter.take('mcp-member:U01BOB')).toEqual({ ok: true });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.message).toMatch(/rate limit: the database did not answer/);
    expect(log.lines[0]!.detail).toMatchObject({
      error: expect.stringMatching(/ECONNREFUSED/),
      fallbacks: 1,
    });
    now += 61_000;
    expect(await limiter.take('mcp-member:U01ALICE')).toEqual({ ok: true }); // refilled in memory
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]!.detail).toMatchObject({ fallbacks: 4 });
  });

  it('a store that throws at once is a failure like any other', async () => {
    const store = fakeStore('supabase', () => {
      throw new Error('boom');
    });
    const log = warnings();
    expect(await rateLimiterFor(store, LIMITS, log).take('k')).toEqual({ ok: true });
    expect(log.lines).toHaveLength(1);
  });

  it('a store that hangs: the call is decided in memory after the time limit', async () => {
    const store = fakeStore('postgres', () => new Promise<RateLimitDecision>(() => undefined));
    const log = warnings();
    const limiter = rateLimiterFor(store, LIMITS, log, { timeoutMs: 50 });
    const started = Date.now();
    expect(await limiter.take('slack-user:U01ALICE')).toEqual({ ok: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(log.lines[0]!.detail.error).toMatch(/no answer from the store within 50 ms/);
  });

  it('forgets a bucket only once it is full again, and not before 10 minutes', () => {
    expect(rateBucketIdleMs({ perMinute: 60, burst: 30 })).toBe(10 * 60_000);
    // 30 tokens at one a minute: full after 30 minutes; forgotten after twice that.
    expect(rateBucketIdleMs({ perMinute: 1, burst: 30 })).toBe(60 * 60_000);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('serve on PostgreSQL counts in the database', () => {
  let store: SqlStore;
  let fake: FakeSlack;
  let server: RunningServer;

  beforeAll(async () => {
    store = await freshPostgres();
    fake = await startFakeSlack();
    const config = loadConfig({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '1',
      SWITCHBOARD_RATE_LIMIT_BURST: '2',
    });
    const app: App = {
      config,
      deps: makeDeps(store),
      storeLabel: 'test (postgres)',
      close: () => store.close(),
    };
    server = await startServer(app, {
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      env: config.env,
      jobs: {}, // on, at their usual intervals: the test runs the forget job by hand
    });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    await fake?.close();
  });

  const db = () => (store as unknown as { db: SqlExecutor }).db;
  const keys = async () =>
    (
      await db().query<{ key: string }>('select key from switchboard.rate_buckets order by key')
    ).map((row) => row.key);

  it('limits Slack users and MCP members through switchboard.rate_buckets', async () => {
    for (const id of ['pg-1', 'pg-2']) {
      const res = await postSigned(server.url, slashBody(fake, 'U01ALICE', 'list', id));
      expect(res.status).toBe(200);
      await eventually(() => fake.responses.find((r) => r.id === id), `the answer to ${id}`);
    }
    const over = await postSigned(server.url, slashBody(fake, 'U01ALICE', 'list', 'pg-3'));
    const answer = (await over.json()) as { text: string };
    expect(answer.text).toMatch(SLOW_DOWN);

    const token = await makeMcpToken(store, 'pg-bot', 'requester', 'U01RATE');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postMcp(server.url, token, mcpInitialize('rate-limit-test'));
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(await keys()).toEqual(['mcp-member:U01RATE', 'slack-user:U01ALICE']);
  });

  it('the jobs forget buckets idle past their refill time, and keep the others', async () => {
    await db().query(
      `update switchboard.rate_buckets set at = at - interval '1 hour' where key = 'slack-user:U01ALICE'`,
    );
    expect(await server.jobs!.forgetRateBucketsNow()).toBe(1);
    expect(await keys()).toEqual(['mcp-member:U01RATE']);
  });
});
