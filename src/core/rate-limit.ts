/**
 * A per-identity token bucket, for the fronts that face the network (Slack commands, MCP over
 * HTTP). Pure: the clock is injected, nothing is shared between processes. Each identity starts
 * with `burst` tokens and gains `perMinute` tokens a minute, up to `burst`; a call takes one.
 */
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
  take(identity: string): RateLimitDecision;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(options: RateLimitOptions): RateLimiter {
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

/** The one-line answer to a caller over the limit: how long to wait, in whole seconds. */
export function slowDownMessage(retryAfterMs: number): string {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return `Slow down: too many requests from you. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
}
