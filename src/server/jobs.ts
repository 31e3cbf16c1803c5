/**
 * Background jobs of `serve`: request expiry (about every 30 s; expired requests' Slack messages
 * are redrawn) and `reconcile` (once at start, then periodically). Each run goes through
 * `runExclusive`, so that with several replicas only one runs a job at a time; the jobs keep no
 * state in memory that another replica would need: everything comes from the database.
 */
import type { Logger } from 'pino';
import type { App } from '../app.js';
import { expireOverdue } from '../core/commands/decide.js';
import { reconcile } from '../core/purchase.js';
// issue 7: replicas
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Store } from '../core/ports.js';

// --- issue 7: replicas ------------------------------------------------------------------------
/** A database lease per job: of several replicas, the holder runs the job, the others skip it. */
export interface JobLease {
  store: Pick<Store, 'tryLease'>;
  /** This process, e.g. host:pid:random. Its own lease it renews. */
  holder: string;
  /** How long a run holds the job: its interval, so each interval's run happens once. */
  ttlMs: number;
}

export function leaseHolder(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * Runs `fn` as the one holder of job `name`: takes (or renews) the database lease `job:<name>`
 * first and skips the run, returning undefined, while another replica holds it. The lease is not
 * given back after a run: it lasts the job's interval, so that another replica's timer, ticking a
 * moment later, does not run the same job again; if the holder dies, the lease expires and the next
 * replica to tick takes over. Without a lease it just runs `fn`.
 */
export async function runExclusive<T>(
  name: string,
  fn: () => Promise<T>,
  lease?: JobLease,
): Promise<T | undefined> {
  if (lease && !(await lease.store.tryLease(`job:${name}`, lease.holder, lease.ttlMs))) {
    return undefined;
  }
  return fn();
}
// --- end issue 7 -------------------------------------------------------------------------------

export interface JobOptions {
  logger: Logger;
  expiryIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** Redraws Slack messages of requests that moved on (set when Slack is connected). */
  refreshMessages?: () => Promise<number>;
  /** Posts approval messages for requests made outside Slack (set when Slack is connected). */
  announceRequests?: () => Promise<number>;
  announceIntervalMs?: number;
  /**
   * Forgets idle shared rate-limit buckets (set when limits are shared through the database,
   * migration 020); every `rateForgetIntervalMs` (default 10 minutes), on one replica.
   */
  forgetRateBuckets?: () => Promise<number>;
  rateForgetIntervalMs?: number;
}

export interface Jobs {
  /** Runs the expiry job once now (tests, and the first run at start). */
  expireNow(): Promise<number>;
  reconcileNow(): Promise<number>;
  announceNow(): Promise<number>;
  /** Forgets idle shared rate-limit buckets now; 0 when limits are not shared. */
  forgetRateBucketsNow(): Promise<number>;
  stop(): Promise<void>;
}

export function startJobs(app: App, options: JobOptions): Jobs {
  const log = options.logger.child({ via: 'jobs' });
  const expiryMs = options.expiryIntervalMs ?? 30_000;
  const reconcileMs = options.reconcileIntervalMs ?? 5 * 60_000;
  let stopped = false;
  const running = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  // issue 7: one database lease per job, held for the job's interval; released on stop.
  const holder = leaseHolder();
  const lease = (ttlMs: number): JobLease => ({ store: app.deps.store, holder, ttlMs });
  /** One run of job `name` on the replica holding its lease (for `everyMs`); 0 when skipped. */
  const exclusive = async (
    name: string,
    everyMs: number,
    job: () => Promise<number>,
  ): Promise<number> => {
    const count = await runExclusive(
      name,
      async () => {
        log.debug({ job: name, holder }, 'job run');
        return job();
      },
      lease(everyMs),
    );
    return count ?? 0;
  };

  const expireNow = (): Promise<number> =>
    exclusive('expire-requests', expiryMs, async () => {
      const expired = await expireOverdue({ deps: app.deps });
      if (expired.length > 0) log.info({ requests: expired.map((r) => r.id) }, 'expired requests');
      // Also catches requests expired or decided elsewhere (CLI, `requests`, another replica).
      await options.refreshMessages?.();
      return expired.length;
    });

  const reconcileNow = (): Promise<number> =>
    exclusive('reconcile', reconcileMs, async () => {
      const done = await reconcile(app.deps);
      if (done.length > 0) {
        log.info({ requests: done.map((r) => r.id) }, 'reconciled purchases');
        await options.refreshMessages?.();
      }
      return done.length;
    });

  const announceMs = options.announceIntervalMs ?? 5_000;
  const announceNow = async (): Promise<number> => {
    const announce = options.announceRequests;
    if (!announce) return 0;
    return exclusive('announce-requests', announceMs, async () => {
      const posted = await announce();
      if (posted > 0)
        log.info({ posted }, 'posted approval messages for requests made outside Slack');
      return posted;
    });
  };

  // Shared rate limits (020): the buckets table keeps only identities active lately.
  const forgetMs = options.rateForgetIntervalMs ?? 10 * 60_000;
  const forgetRateBucketsNow = async (): Promise<number> => {
    const forget = options.forgetRateBuckets;
    if (!forget) return 0;
    return exclusive('forget-rate-buckets', forgetMs, async () => {
      const forgotten = await forget();
      if (forgotten > 0) log.debug({ forgotten }, 'forgot idle rate-limit buckets');
      return forgotten;
    });
  };

  /** Runs a job, then schedules the next run after it ends (runs never overlap). */
  const loop = (name: string, job: () => Promise<unknown>, everyMs: number, now: boolean) => {
    const later = () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        tick();
      }, everyMs);
      timer.unref();
      timers.add(timer);
    };
    const tick = () => {
      if (stopped) return;
      const run = job()
        .catch((error: unknown) => log.error({ err: error, job: name }, 'job failed'))
        .finally(() => {
          running.delete(run);
          if (!stopped) later();
        });
      running.add(run);
    };
    if (now) tick();
    else later();
  };

  loop('reconcile', reconcileNow, reconcileMs, true);
  loop('expire-requests', expireNow, expiryMs, false);
  if (options.announceRequests) loop('announce-requests', announceNow, announceMs, true);
  if (options.forgetRateBuckets) loop('forget-rate-buckets', forgetRateBucketsNow, forgetMs, false);

  return {
    expireNow,
    reconcileNow,
    announceNow,
    forgetRateBucketsNow,
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...running]);
      // issue 7: let another replica take the jobs over at its next tick, not after the lease.
      await Promise.allSettled(
        ['expire-requests', 'reconcile', 'announce-requests', 'forget-rate-buckets'].map((job) =>
          app.deps.store.releaseLease(`job:${job}`, holder),
        ),
      );
    },
  };
}
