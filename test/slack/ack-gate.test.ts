import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAckGate } from '../../src/slack/ack-gate.js';

describe('ack gate: work waits while Slack requests keep arriving', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Resolves to the fake time at which `afterAck` let work start. */
  const startOf = (gate: ReturnType<typeof createAckGate>) =>
    gate.afterAck().then(() => performance.now());

  it('a lone request: work starts once the quiet time has passed', async () => {
    const gate = createAckGate({ quietMs: 3, maxWaitMs: 250 });
    const t0 = performance.now();
    gate.arrived();
    const started = startOf(gate);
    await vi.advanceTimersByTimeAsync(10);
    expect((await started) - t0).toBeGreaterThanOrEqual(3);
    expect((await started) - t0).toBeLessThanOrEqual(5);
  });

  it('a burst: work waits until the last request of the burst is 3 ms old', async () => {
    const gate = createAckGate({ quietMs: 3, maxWaitMs: 250 });
    const t0 = performance.now();
    gate.arrived();
    const started = startOf(gate);
    // 40 more requests, one every 2 ms (quicker than the quiet time): 80 ms of burst.
    for (let i = 0; i < 40; i++) {
      await vi.advanceTimersByTimeAsync(2);
      gate.arrived();
    }
    await vi.advanceTimersByTimeAsync(20);
    const at = (await started) - t0;
    expect(at).toBeGreaterThanOrEqual(83);
    expect(at).toBeLessThanOrEqual(86);
  });

  it('a stream that never pauses holds work back for maxWaitMs at most', async () => {
    const gate = createAckGate({ quietMs: 3, maxWaitMs: 50 });
    const t0 = performance.now();
    gate.arrived();
    const started = startOf(gate);
    for (let i = 0; i < 100; i++) {
      await vi.advanceTimersByTimeAsync(1);
      gate.arrived();
    }
    const at = (await started) - t0;
    expect(at).toBeGreaterThanOrEqual(50);
    expect(at).toBeLessThanOrEqual(52);
  });

  it('the ack is written first: work never starts in the same turn, even after a long quiet', async () => {
    const gate = createAckGate({ quietMs: 3, maxWaitMs: 250 });
    let started = false;
    void gate.afterAck().then(() => (started = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toBe(true);
  });
});
