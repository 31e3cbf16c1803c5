/**
 * Several replicas on one database (issue 7).
 *
 * - Leases (switchboard.try_lease): one holder at a time, renewable by its holder, free again once
 *   expired or released; many holders racing through two separate connection pools (two "replicas")
 *   on one PostgreSQL, or through the supabase-js store, get exactly one winner.
 * - Two real `switchboard serve` processes (the built bin, HTTP mode, each on its own port) on one
 *   PostgreSQL database and one sandbox state folder: Alice's `/number buy 415` goes to the first,
 *   twenty signed Approve clicks from twenty approvers are spread over both, and exactly one number
 *   is bought; the start-up reconcile and the expiry job each run on one replica only, and a
 *   request that times out is expired once.
 *
 * - Rate limits (migration 020): with two `serve` replicas on one PostgreSQL database, an MCP
 *   token's calls and a Slack user's commands spread over both draw on one budget: once the shared
 *   burst is spent, the second replica refuses too.
 *
 * The PostgreSQL parts need TEST_DATABASE_URL and are skipped, visibly, without it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/ports.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { freshSupabase } from '../helpers/postgrest-fake.js';
import {
  createTestDatabase,
  freshPglite,
  freshPostgres,
  TEST_DATABASE_URL,
} from '../helpers/stores.js';
import {
  actionBody,
  BOT_TOKEN,
  eventually,
  postSigned,
  SIGNING_SECRET,
  slashBody,
  startFakeSlack,
  textOf,
} from '../slack/fake-slack.js';
import type { FakeSlack } from '../slack/fake-slack.js';
import { mcpInitialize, postMcp } from '../helpers/mcp-raw.js';
import { makeMcpToken } from '../helpers/mcp-token.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls an async check until it returns a value. */
async function waitFor<T>(
  check: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A new migrated database on the test server, its URL, and a drop. */
async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await createTestDatabase('switchboard_replicas');
  const migrator = await openPostgresStore({ url: db.url, max: 1 });
  await migrator.close();
  return db;
}

function leaseContract(name: string, make: () => Promise<Store>, skip = false) {
  describe.skipIf(skip)(`leases on ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await make();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('one holder at a time; the holder renews; a release or the expiry frees it', async () => {
      expect(await store.tryLease('job:a', 'replica-1', 60_000)).toBe(true);
      expect(await store.tryLease('job:a', 'replica-2', 60_000)).toBe(false);
      expect(await store.tryLease('job:a', 'replica-1', 60_000)).toBe(true);
      await store.releaseLease('job:a', 'replica-2'); // not the holder: no effect
      expect(await store.tryLease('job:a', 'replica-2', 60_000)).toBe(false);
      await store.releaseLease('job:a', 'replica-1');
      expect(await store.tryLease('job:a', 'replica-2', 60_000)).toBe(true);
      // Other names are independent.
      expect(await store.tryLease('job:b', 'replica-1', 60_000)).toBe(true);
      // An expired lease goes to whoever asks next (the database's clock decides).
      expect(await store.tryLease('job:c', 'replica-1', 1)).toBe(true);
      await sleep(20);
      expect(await store.tryLease('job:c', 'replica-2', 60_000)).toBe(true);
      expect(await store.tryLease('job:c', 'replica-1', 60_000)).toBe(false);
    });

    it('refuses a lease without a positive time to live', async () => {
      await expect(store.tryLease('job:d', 'replica-1', 0)).rejects.toMatchObject({
        name: 'CoreError',
      });
    });
  });
}

leaseContract('pglite', freshPglite);
leaseContract('postgres', freshPostgres, !TEST_DATABASE_URL);
leaseContract('supabase (PostgREST fake on pglite)', () => freshSupabase(freshPglite));

describe.skipIf(!TEST_DATABASE_URL)('leases raced by two replicas on PostgreSQL', () => {
  it('40 holders through two connection pools: exactly one gets the lease', async () => {
    const db = await freshDatabase();
    const a = await openPostgresStore({ url: db.url, max: 10, skipMigrate: true });
    const b = await openPostgresStore({ url: db.url, max: 10, skipMigrate: true });
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).tryLease('job:expire-requests', `replica-${i}`, 60_000),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  it('20 holders through the supabase-js store: exactly one gets the lease', async () => {
    const store = await freshSupabase<SqlStore>(freshPostgres);
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.tryLease('job:reconcile', `r-${i}`, 60_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Two `serve` processes

interface Replica {
  url: string;
  startedAt: number;
  child: ChildProcess;
  stderr: string[];
  /** pino lines (JSON) this replica logged. */
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

const APPROVERS = Array.from({ length: 20 }, (_, i) => `U02APPR${String(i).padStart(2, '0')}`);

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, ['bin/switchboard.js', 'serve', '--json'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await Promise.race([
    eventually(() => /"url":"([^"]+)"/.exec(stdout)?.[1], 'serve to print its URL', 30_000),
    exited.then((code) => {
      throw new Error(`serve exited with ${code}: ${stderr.join('')}`);
    }),
  ]);
  return {
    url,
    startedAt: Date.now(),
    child,
    stderr,
    logs: () =>
      stderr
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

interface Replicas {
  fake: FakeSlack;
  /** The sandbox carrier's state folder, which both replicas share. */
  dataDir: string;
  replicas: Replica[];
  /** A store on the replicas' database, to look at what they did. */
  store: SqlStore;
  stop(): Promise<void>;
}

/**
 * Two replicas on a new migrated PostgreSQL database, one sandbox state folder (like a real
 * carrier account, both share it) and a fake Slack; `env` is added to what each is started with.
 */
async function startReplicas(dirPrefix: string, env: Record<string, string>): Promise<Replicas> {
  let db: { url: string; drop(): Promise<void> } | undefined;
  let fake: FakeSlack | undefined;
  let dataDir: string | undefined;
  const replicas: Replica[] = [];
  let store: SqlStore | undefined;
  const stop = async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await store?.close();
    await fake?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    db = await freshDatabase();
    fake = await startFakeSlack();
    dataDir = mkdtempSync(join(tmpdir(), dirPrefix));
    const replicaEnv = {
      DATABASE_URL: db.url,
      SWITCHBOARD_DATA_DIR: dataDir,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    };
    replicas.push(await startReplica(replicaEnv));
    replicas.push(await startReplica(replicaEnv));
    store = await openPostgresStore({ url: db.url, max: 2, skipMigrate: true });
    return { fake, dataDir, replicas, store, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

describe.skipIf(!TEST_DATABASE_URL)('two serve replicas on one PostgreSQL', () => {
  let fake: FakeSlack;
  let dataDir: string;
  let replicas: Replica[];
  let store: SqlStore;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ fake, dataDir, replicas, store, stop } = await startReplicas('switchboard-replicas-', {
      SWITCHBOARD_APPROVERS: APPROVERS.join(','),
      // 0.4 minutes: long enough for the approvals, short enough to expire before the first
      // expiry run (30 s after start).
      SWITCHBOARD_REQUEST_TTL_MINUTES: '0.4',
      SLACK_APPROVAL_CHANNEL: 'C0APPROVALS',
      LOG_LEVEL: 'debug',
    }));
  }, 90_000);

  afterAll(async () => {
    await stop?.();
  });

  const jobRuns = (job: string) =>
    replicas.map(
      (replica) => replica.logs().filter((log) => log.msg === 'job run' && log.job === job).length,
    );

  async function requestNumber(replica: Replica, text: string, id: string): Promise<string> {
    const res = await postSigned(replica.url, slashBody(fake, 'U01ALICE', text, id));
    expect(res.status).toBe(200);
    const reply = await eventually(
      () => fake.responses.find((r) => r.id === id),
      'the requester reply',
    );
    const requestId = /R-[0-9A-Z]+/.exec(textOf(reply.body.blocks))?.[0];
    expect(requestId, textOf(reply.body.blocks)).toBeDefined();
    return requestId!;
  }

  let toExpire: string;

  it('twenty Approve clicks spread over both replicas buy the number once', async () => {
    // Left pending, this one times out before the first expiry run (last test).
    toExpire = await requestNumber(replicas[1]!, 'buy 212', 'buy-212');
    const requestId = await requestNumber(replicas[0]!, 'buy 415 --reason "replicas"', 'buy-415');
    const answers = await Promise.all(
      APPROVERS.map((approver, i) =>
        postSigned(
          replicas[i % 2]!.url,
          actionBody(
            fake,
            approver,
            { action_id: 'sb_approve', value: requestId },
            { id: `a${i}` },
          ),
        ),
      ),
    );
    expect(answers.map((res) => res.status)).toEqual(APPROVERS.map(() => 200));
    // The winning click updates the approval message; the nineteen others get a private answer.
    await eventually(
      () => APPROVERS.filter((_, i) => fake.responses.some((r) => r.id === `a${i}`)).length >= 19,
      'nineteen private answers',
      30_000,
    );
    await eventually(
      () => fake.callsTo('chat.update').some((c) => textOf(c.args.blocks).includes('Bought')),
      'the approval message updated',
      30_000,
    );
    const request = await waitFor(async () => {
      const r = await store.getRequest(requestId);
      return r && ['done', 'failed', 'needs_attention'].includes(r.status) ? r : undefined;
    }, 'the purchase to finish');
    expect(request.status).toBe('done');
    const sandbox = JSON.parse(readFileSync(join(dataDir, 'sandbox-carrier.json'), 'utf8')) as {
      orders: Record<string, unknown>;
    };
    expect(Object.keys(sandbox.orders)).toHaveLength(1);
    const numbers = await store.listNumbers({ scope: 'all' });
    expect(numbers.filter((n) => n.requestId === requestId)).toHaveLength(1);
    const approvals = (await store.listAudit({ requestId, limit: 100 })).filter(
      (event) => event.command === 'approve',
    );
    expect(approvals).toHaveLength(20);
    expect(approvals.filter((event) => event.outcome === 'ok')).toHaveLength(1);
    // One message update and one DM to Alice, though either replica could have sent them.
    await sleep(300);
    expect(
      fake.callsTo('chat.update').filter((c) => textOf(c.args.blocks).includes('Bought')),
    ).toHaveLength(1);
    expect(
      fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DU01ALICE'),
    ).toHaveLength(1);
  }, 60_000);

  it('the start-up reconcile ran on one replica only', () => {
    expect(jobRuns('reconcile').reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('the first expiry run happens on one replica, and the timed-out request is expired once', async () => {
    await waitFor(
      async () => (await store.getRequest(toExpire))?.status === 'expired',
      'the expiry job',
      60_000,
    );
    // Until both replicas' first expiry timers (30 s after each started) have fired.
    const last = Math.max(...replicas.map((replica) => replica.startedAt)) + 32_000;
    await sleep(Math.max(0, last - Date.now()));
    expect(jobRuns('expire-requests').reduce((a, b) => a + b, 0)).toBe(1);
    const expiredLogs = replicas.flatMap((replica) =>
      replica
        .logs()
        .filter(
          (log) => log.msg === 'expired requests' && (log.requests as string[]).includes(toExpire),
        ),
    );
    expect(expiredLogs).toHaveLength(1);
  }, 90_000);
});

// ------------------------------------------------------------------------------------------------
// Rate limits shared by the replicas (migration 020)

describe.skipIf(!TEST_DATABASE_URL)(
  'rate limits shared by two serve replicas on one PostgreSQL',
  () => {
    const BURST = 3;
    let fake: FakeSlack;
    let replicas: Replica[];
    let store: SqlStore;
    let stop: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ fake, replicas, store, stop } = await startReplicas('switchboard-replicas-rates-', {
        // One call a minute after a burst of three: nothing refills while the test runs.
        SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '1',
        SWITCHBOARD_RATE_LIMIT_BURST: String(BURST),
      }));
    }, 90_000);

    afterAll(async () => {
      await stop?.();
    });

    const initialize = (replica: Replica, token: string) =>
      postMcp(replica.url, token, mcpInitialize('replicas-test'));

    it("an MCP token's calls over both replicas are limited together", async () => {
      const token = await makeMcpToken(store, 'shared-bot', 'requester', 'U01RATE');
      const [a, b] = [replicas[0]!, replicas[1]!];
      // The burst, spread over both replicas: A, B, A.
      for (const replica of [a, b, a]) {
        const res = await initialize(replica, token);
        expect(res.status).toBe(200);
        await res.text();
      }
      // B has served one call only, but the member's budget is spent: B refuses, and so does A.
      for (const replica of [b, a]) {
        const refused = await initialize(replica, token);
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        const body = (await refused.json()) as { error: { message: string } };
        expect(body.error.message).toMatch(/Slow down: too many requests from you/);
      }
    }, 30_000);

    it("a Slack user's commands over both replicas are limited together", async () => {
      const [a, b] = [replicas[0]!, replicas[1]!];
      for (const [i, replica] of [a, b, a].entries()) {
        const id = `shared-list-${i}`;
        const res = await postSigned(replica.url, slashBody(fake, 'U01ALICE', 'list', id));
        expect(res.status).toBe(200);
        await eventually(() => fake.responses.find((r) => r.id === id), `the answer to ${id}`);
      }
      const over = await postSigned(b.url, slashBody(fake, 'U01ALICE', 'list', 'shared-list-over'));
      expect(over.status).toBe(200);
      const answer = (await over.json()) as { response_type: string; text: string };
      expect(answer.response_type).toBe('ephemeral');
      expect(answer.text).toMatch(/Slow down: too many requests from you/);
      expect(
        (await store.listAudit({ actor: 'U01ALICE', limit: 100 })).filter(
          (e) => e.command === 'list',
        ),
      ).toHaveLength(BURST);
    }, 30_000);
  },
);
