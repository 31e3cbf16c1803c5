/**
 * Retrying vendor calls without ever buying twice. Shared by the carrier adapters (Telnyx, Twilio).
 *
 * The one rule: a failure is retried only when we know the vendor did nothing, or when doing it
 * again is harmless. Each adapter says which failures are which through `classify`, and says per
 * call whether the request is idempotent:
 *
 *   - 'unprocessed': the vendor certainly did not act (429 rate limit, connection refused).
 *     Retried for every request, after the wait the vendor asked for.
 *   - 'transient':   the vendor may or may not have acted (5xx, timeout, connection reset).
 *     Retried only when `idempotent` is true (GET, DELETE by id, a search); a POST that spends
 *     money is never retried blind: the caller looks the order up instead.
 *   - 'final':       anything else (4xx): never retried.
 *
 * Vendor SDKs have their own retry loops; turn them off (`maxRetries: 0`) so this is the only one.
 */

export type FailureKind = 'unprocessed' | 'transient' | 'final';

export interface ClassifiedFailure {
  kind: FailureKind;
  /** How long the vendor asked us to wait (Retry-After and friends), if it said. */
  retryAfterMs?: number | null;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff delay; doubled each retry, with jitter, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The longest wait a vendor's Retry-After may impose. Longer than this and we give up at once
   * rather than hold a Slack or MCP caller for minutes.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
};

export interface RetryOptions {
  /** True when repeating the request cannot do harm (reads, deletes by id, searches). */
  idempotent: boolean;
  classify(error: unknown): ClassifiedFailure;
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Injectable for tests; defaults to a timer that honours `signal`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each retry (logging, tests). */
  onRetry?: (info: {
    attempt: number;
    delayMs: number;
    failure: ClassifiedFailure;
    error: unknown;
  }) => void;
}

/** Runs `fn` and retries it under the rules above; the last error is rethrown unchanged. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const sleep = options.sleep ?? sleepFor;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const failure = options.classify(error);
      const retryable =
        failure.kind === 'unprocessed' || (failure.kind === 'transient' && options.idempotent);
      if (!retryable || attempt >= policy.maxRetries) throw error;
      const delayMs = retryDelay(attempt, failure.retryAfterMs ?? null, policy);
      if (delayMs === null) throw error;
      options.onRetry?.({ attempt: attempt + 1, delayMs, failure, error });
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * The wait before retry number `attempt + 1`: the vendor's own wait when it gave one (capped by
 * `maxRetryAfterMs`: null means "too long, give up"), else exponential backoff with jitter.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | null,
  policy: RetryPolicy,
): number | null {
  if (retryAfterMs !== null) {
    if (retryAfterMs > policy.maxRetryAfterMs) return null;
    return Math.max(0, retryAfterMs);
  }
  const base = Math.min(policy.baseDelayMs * 2 ** attempt, policy.maxDelayMs);
  return Math.round(base * (1 - Math.random() * 0.25));
}

/**
 * Reads how long a server asked us to wait, in milliseconds, or null if it did not say.
 * Understands `retry-after-ms`, `Retry-After` (seconds or an HTTP date) and the
 * `x-ratelimit-reset` family (seconds until reset, or a Unix timestamp in seconds).
 */
export function retryAfterFromHeaders(
  headers: Headers | Record<string, string | string[] | undefined> | null | undefined,
  now: number = Date.now(),
): number | null {
  if (!headers) return null;
  const get = (name: string): string | null => {
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
    const record = headers as Record<string, string | string[] | undefined>;
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    const value = key === undefined ? undefined : record[key];
    return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
  };

  const ms = Number.parseFloat(get('retry-after-ms') ?? '');
  if (Number.isFinite(ms)) return Math.max(0, ms);

  const retryAfter = get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter.trim());
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }

  const reset = get('x-ratelimit-reset') ?? get('x-ratelimit-reset-after');
  if (reset) {
    const value = Number(reset.trim());
    if (Number.isFinite(value)) {
      // Vendors disagree: small values are "seconds from now", large ones a Unix time in seconds.
      if (value > 1_000_000_000) return Math.max(0, value * 1000 - now);
      return Math.max(0, value * 1000);
    }
  }
  return null;
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `worker` over `items` with at most `limit` in flight, yielding results in input order. */
export async function* mapOrdered<T, R>(
  items: Iterable<T>,
  limit: number,
  worker: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const queue: Promise<R>[] = [];
  const iterator = items[Symbol.iterator]();
  const fill = () => {
    while (queue.length < Math.max(1, limit)) {
      const next = iterator.next();
      if (next.done) return;
      const promise = worker(next.value);
      // A rejection is observed when its turn comes; this stops an "unhandled" warning before then.
      promise.catch(() => undefined);
      queue.push(promise);
    }
  };
  fill();
  while (queue.length > 0) {
    const result = await queue.shift()!;
    fill();
    yield result;
  }
}
