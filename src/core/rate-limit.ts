/**
 * A per-identity token bucket, for the fronts that face the network (Slack commands, MCP over
 * HTTP). Each identity starts with `burst` tokens and gains `perMinute` tokens a minute, up to
 * `burst`; a call takes one.
 *
 * Two kinds: `createRateLimiter` keeps the buckets in this process's memory (pure: the clock is
 * injected), for the embedded store, which one process serves; `createStoreRateLimiter` keeps them
 * in the database (Store.rateTake, migration 020), so that several replicas of `serve` on one
 * PostgreSQL or Supabase database count against one budget. `rateLimiterFor` picks between them.
 */
import type { Store } from './ports.js';

export interface RateLimitOptions {
  /** Sustained rate: tokens added per minute. */
  perMinute: number;
  /** Bucket size: how many calls may come at once after a quiet spell. */
  burst: number;
  /** Milliseconds since some fixed point; `Date.now` by default. */
  now?: () => number;
  /** Buckets kept at most; the least recently used full ones go first. Default 10,000. */
  maxIdentities?: number;
}

export type RateLimitDecision = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  /** Takes one call from `identity`'s budget. Await it: the shared limiter asks the database. */
  take(identity: string): RateLimitDecision | Promise<RateLimitDecision>;
}

/** The in-memory limiter answers at once. */
export interface MemoryRateLimiter extends RateLimiter {
  take(identity: string): RateLimitDecision;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(options: RateLimitOptions): MemoryRateLimiter {
  const { perMinute, burst } = options;
  if (!(perMinute > 0) || !Number.isFinite(perMinute))
    throw new RangeError(`perMinute must be a positive number, got ${perMinute}`);
  if (!(burst >= 1) || !Number.isFinite(burst))
    throw new RangeError(`burst must be at least 1, got ${burst}`);
  const now = options.now ?? Date.now;
  const maxIdentities = options.maxIdentities ?? 10_000;
  const msPerToken = 60_000 / perMinute;
  // A Map keeps insertion order: re-inserting on use makes the first entry the least recent.
  const buckets = new Map<string, Bucket>();

  function refill(bucket: Bucket, at: number): void {
    const elapsed = Math.max(0, at - bucket.at);
    bucket.tokens = Math.min(burst, bucket.tokens + elapsed / msPerToken);
    bucket.at = at;
  }

  return {
    take(identity) {
      const at = now();
      let bucket = buckets.get(identity);
      if (bucket) {
        buckets.delete(identity);
        refill(bucket, at);
      } else {
        bucket = { tokens: burst, at };
        if (buckets.size >= maxIdentities) {
          const oldest = buckets.keys().next().value;
          if (oldest !== undefined) buckets.delete(oldest);
        }
      }
      buckets.set(identity, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) * msPerToken) };
    },
  };
}

// --- Shared through the store (migration 020) ----------------------------------------------------

export interface StoreRateLimitOptions {
  perMinute: number;
  burst: number;
  /**
   * Called when the store fails to answer (an error, or no answer within `timeoutMs`); that call
   * is then decided by an in-memory limiter of this process, with the same limits.
   */
  onFallback?: (error: unknown) => void;
  /** How long to wait for the store (default 2 s; Slack wants its ack within 3 s). */
  timeoutMs?: number;
  /** Milliseconds since some fixed point, for the in-memory fallback; `Date.now` by default. */
  now?: () => number;
}

/**
 * A limiter whose buckets live in the database (Store.rateTake: refilled and taken in one
 * statement on the database's clock), so every process on one database shares one budget per
 * identity. A database that fails or hangs does not refuse everyone, nor throw: that call is
 * counted by an in-memory limiter in this process instead, and `onFallback` hears why.
 */
export function createStoreRateLimiter(
  store: Pick<Store, 'rateTake'>,
  options: StoreRateLimitOptions,
): RateLimiter {
  const { perMinute, burst } = options;
  // Checks the limits, as createRateLimiter does, before the first call.
  const fallback = createRateLimiter({
    perMinute,
    burst,
    ...(options.now ? { now: options.now } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 2_000;
  return {
    async take(identity) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Through a promise: a store that throws at once is a failure like any other.
      const asked = Promise.resolve().then(() => store.rateTake(identity, perMinute, burst));
      try {
        return await Promise.race([
          asked,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer from the store within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } catch (error) {
        asked.catch(() => undefined); // a late failure after the timeout is not unhandled
        options.onFallback?.(error);
        return fallback.take(identity);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Whether `serve` shares rate limits through the store: PostgreSQL and Supabase, not embedded. */
export function sharesRateLimits(store: Pick<Store, 'kind'>): boolean {
  return store.kind !== 'pglite';
}

/** The least of a logger this module needs (pino's fits). */
export interface RateLimitLog {
  warn(detail: Record<string, unknown>, message: string): void;
}

/**
 * The limiter `serve` uses for Slack and MCP over HTTP alike: in memory on the embedded store
 * (one process serves it, and Slack's ack stays fast), shared through the database on PostgreSQL
 * and Supabase, so that replicas behind a load balancer count together. When the database does
 * not answer, the call is counted in memory and a warning logged, at most one a minute.
 */
export function rateLimiterFor(
  store: Pick<Store, 'kind' | 'rateTake'>,
  limits: { perMinute: number; burst: number },
  log?: RateLimitLog,
  options: { timeoutMs?: number; now?: () => number } = {},
): RateLimiter {
  if (!sharesRateLimits(store))
    return createRateLimiter({ ...limits, ...(options.now ? { now: options.now } : {}) });
  const now = options.now ?? Date.now;
  let warnedAt: number | null = null;
  let unwarned = 0;
  return createStoreRateLimiter(store, {
    ...limits,
    ...options,
    onFallback: (error) => {
      unwarned += 1;
      const at = now();
      if (warnedAt !== null && at - warnedAt < 60_000) return;
      log?.warn(
        {
          error: error instanceof Error ? error.message : String(error),
          fallbacks: unwarned,
        },
        'rate limit: the database did not answer; counting in this process only for now',
      );
      warnedAt = at;
      unwarned = 0;
    },
  });
}

/**
 * How long a bucket may sit untouched before the database forgets it: twice the time it takes to
 * refill from empty (by then it is full, which a missing bucket also is), and at least 10 minutes.
 */
export function rateBucketIdleMs(limits: { perMinute: number; burst: number }): number {
  return Math.max(10 * 60_000, Math.ceil((2 * limits.burst * 60_000) / limits.perMinute));
}

/** The one-line answer to a caller over the limit: how long to wait, in whole seconds. */
export function slowDownMessage(retryAfterMs: number): string {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return `Slow down: too many requests from you. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}
