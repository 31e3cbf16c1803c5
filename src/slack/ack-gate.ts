/**
 * Acks before work, across a burst. Every listener acks first, then works; but the work (the
 * embedded database, rendering, the carrier's answers) runs on the same thread that reads the
 * next requests. When a channel's worth of `/number buy` arrives at once, work started right after
 * each ack holds back the acks of the requests still waiting on their sockets, and Slack gives an
 * ack 3 s. So work waits until no Slack request has arrived for `quietMs`, and never longer than
 * `maxWaitMs` after its own ack, so a steady stream of requests cannot hold it back for good.
 */
export interface AckGateOptions {
  /** How long without a new request before work starts. Default 10 ms. */
  quietMs?: number;
  /** The longest any work waits after its ack. Default 250 ms. */
  maxWaitMs?: number;
}

export interface AckGate {
  /** A Slack request has arrived (called before its listener runs). */
  arrived(): void;
  /** Resolves when the work behind an ack may start. */
  afterAck(): Promise<void>;
}

export function createAckGate(options: AckGateOptions = {}): AckGate {
  const quietMs = options.quietMs ?? 10;
  const maxWaitMs = options.maxWaitMs ?? 250;
  const now = () => performance.now();
  let lastArrival = Number.NEGATIVE_INFINITY;
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  return {
    arrived() {
      lastArrival = now();
    },
    async afterAck() {
      const deadline = now() + maxWaitMs;
      // At least one turn of the event loop, so the ack itself is written first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (;;) {
        const at = now();
        const quietAt = lastArrival + quietMs;
        if (at >= quietAt || at >= deadline) return;
        await pause(Math.max(1, Math.min(quietAt, deadline) - at));
      }
    },
  };
}
