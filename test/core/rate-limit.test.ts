import { describe, expect, it } from 'vitest';
import { createRateLimiter, slowDownMessage } from '../../src/core/rate-limit.js';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('createRateLimiter', () => {
  it('lets a burst through, then refuses with the wait until the next token', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 6, burst: 3, now: c.now });
    expect([1, 2, 3].map(() => limiter.take('U01ALICE').ok)).toEqual([true, true, true]);
    expect(limiter.take('U01ALICE')).toEqual({ ok: false, retryAfterMs: 10_000 });
    c.advance(4_000);
    expect(limiter.take('U01ALICE')).toEqual({ ok: false, retryAfterMs: 6_000 });
  });

  it('refills at the sustained rate and never beyond the burst', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 2, now: c.now });
    limiter.take('a');
    limiter.take('a');
    expect(limiter.take('a').ok).toBe(false);
    c.advance(1_000);
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    c.advance(60 * 60_000); // an hour of quiet still gives only `burst` tokens
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, false]);
  });

  it('keeps one bucket per identity', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 1, burst: 1, now: c.now });
    expect(limiter.take('U01ALICE').ok).toBe(true);
    expect(limiter.take('U01ALICE').ok).toBe(false);
    expect(limiter.take('U01BOB').ok).toBe(true);
  });

  it('does not refill when the clock goes backwards', () => {
    const c = clock(100_000);
    const limiter = createRateLimiter({ perMinute: 60, burst: 1, now: c.now });
    expect(limiter.take('a').ok).toBe(true);
    c.advance(-50_000);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 1_000 });
  });

  it('forgets the least recently used identity beyond maxIdentities (a fresh bucket is full)', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 1, burst: 1, now: c.now, maxIdentities: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c'); // evicts a
    expect(limiter.take('b').ok).toBe(false);
    expect(limiter.take('a').ok).toBe(true);
  });

  it('refuses nonsense settings', () => {
    expect(() => createRateLimiter({ perMinute: 0, burst: 1 })).toThrow(/perMinute/);
    expect(() => createRateLimiter({ perMinute: 10, burst: 0 })).toThrow(/burst/);
    expect(() => createRateLimiter({ perMinute: Number.NaN, burst: 1 })).toThrow(/perMinute/);
  });
});

describe('slowDownMessage', () => {
  it('names when to retry, in whole seconds, at least one', () => {
    expect(slowDownMessage(10_000)).toBe(
      'Slow down: too many requests from you. Try again in 10 seconds.',
    );
    expect(slowDownMessage(1)).toBe(
      'Slow down: too many requests from you. Try again in 1 second.',
    );
    expect(slowDownMessage(1_001)).toMatch(/in 2 seconds/);
  });
});
