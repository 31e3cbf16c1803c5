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

/**
 * Runs `fn` as the one holder of job `name`. Today it just runs it; the replicas issue (7) makes it
 * take a database lease first and skip the run (returning undefined) when another replica holds it.
 */
export async function runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  void name;
  return fn();
}

export interface JobOptions {
  logger: Logger;
  expiryIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** Redraws Slack messages of requests that moved on (set when Slack is connected). */
  refreshMessages?: () => Promise<number>;
}

export interface Jobs {
  /** Runs the expiry job once now (tests, and the first run at start). */
  expireNow(): Promise<number>;
  reconcileNow(): Promise<number>;
  stop(): Promise<void>;
}

export function startJobs(app: App, options: JobOptions): Jobs {
  const log = options.logger.child({ via: 'jobs' });
  const expiryMs = options.expiryIntervalMs ?? 30_000;
  const reconcileMs = options.reconcileIntervalMs ?? 5 * 60_000;
  let stopped = false;
  const running = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();

  const expireNow = async (): Promise<number> => {
    const count = await runExclusive('expire-requests', async () => {
      const expired = await expireOverdue({ deps: app.deps });
      if (expired.length > 0) log.info({ requests: expired.map((r) => r.id) }, 'expired requests');
      // Also catches requests expired or decided elsewhere (CLI, `requests`, another replica).
      await options.refreshMessages?.();
      return expired.length;
    });
    return count ?? 0;
  };

  const reconcileNow = async (): Promise<number> => {
    const resolved = await runExclusive('reconcile', async () => {
      const done = await reconcile(app.deps);
      if (done.length > 0) {
        log.info({ requests: done.map((r) => r.id) }, 'reconciled purchases');
        await options.refreshMessages?.();
      }
      return done.length;
    });
    return resolved ?? 0;
  };

  /** Runs a job, then schedules the next run after it ends (runs never overlap). */
  const loop = (name: string, job: () => Promise<unknown>, everyMs: number, now: boolean) => {
    const tick = () => {
      if (stopped) return;
      const run = job()
        .catch((error: unknown) => log.error({ err: error, job: name }, 'job failed'))
        .finally(() => {
          running.delete(run);
          if (stopped) return;
          const timer = setTimeout(() => {
            timers.delete(timer);
            tick();
          }, everyMs);
          timer.unref();
          timers.add(timer);
        });
      running.add(run);
    };
    if (now) tick();
    else {
      const timer = setTimeout(() => {
        timers.delete(timer);
        tick();
      }, everyMs);
      timer.unref();
      timers.add(timer);
    }
  };

  loop('reconcile', reconcileNow, reconcileMs, true);
  loop('expire-requests', expireNow, expiryMs, false);

  return {
    expireNow,
    reconcileNow,
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
}
