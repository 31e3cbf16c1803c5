/** Latency and injected faults for the sandbox adapters: for demos, benchmarks and fault tests. */
import { CoreError } from '../core/errors.js';

export const FAULT_KINDS = [
  'rate_limit',
  'server_error',
  'timeout',
  'malformed',
  'pending',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultOptions {
  /** Added to every call, in milliseconds. */
  latencyMs?: number;
  /** Share of calls that fail, 0 to 1. */
  faultRate?: number;
  /** Which faults to draw from; all by default. `pending` only affects orders. */
  faults?: readonly FaultKind[];
  /** Seed for the fault draws, so that a run can be repeated. */
  seed?: number;
  /** Only these operations draw faults (e.g. ['order']); all by default. */
  operations?: readonly string[];
}

/** mulberry32: a small, fast, seedable generator; plenty for drawing faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private readonly random: () => number;
  /** How many faults of each kind were injected: the fault run prints these. */
  readonly injected: Record<FaultKind, number> = {
    rate_limit: 0,
    server_error: 0,
    timeout: 0,
    malformed: 0,
    pending: 0,
  };

  constructor(
    private readonly label: string,
    private readonly options: FaultOptions = {},
  ) {
    this.random = seededRandom(options.seed ?? 1);
  }

  async delay(): Promise<void> {
    const ms = this.options.latencyMs ?? 0;
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Draws a fault for this call, or none. `allowed` narrows the kinds for the operation. */
  draw(allowed: readonly FaultKind[] = FAULT_KINDS, operation?: string): FaultKind | null {
    if (operation && this.options.operations && !this.options.operations.includes(operation))
      return null;
    const rate = this.options.faultRate ?? 0;
    if (rate <= 0 || this.random() >= rate) return null;
    const kinds = (this.options.faults ?? FAULT_KINDS).filter((kind) => allowed.includes(kind));
    if (kinds.length === 0) return null;
    const kind = kinds[Math.floor(this.random() * kinds.length)] as FaultKind;
    this.injected[kind]++;
    return kind;
  }

  /** A coin toss from the same seeded stream (e.g. did a timed-out order go through?). */
  chance(p: number): boolean {
    return this.random() < p;
  }

  /** The error a drawn fault produces, as a real adapter would translate the vendor's answer. */
  error(kind: Exclude<FaultKind, 'pending'>, operation: string): CoreError {
    const where = `${this.label} ${operation}`;
    switch (kind) {
      case 'rate_limit':
        return new CoreError('UNAVAILABLE', `${where}: rate limited (429)`, {
          vendorCode: '429',
          details: { retryAfterMs: 1000 },
        });
      case 'server_error':
        return new CoreError('UNAVAILABLE', `${where}: server error (503)`, { vendorCode: '503' });
      case 'timeout':
        return new CoreError('UNAVAILABLE', `${where}: no answer (timeout)`);
      case 'malformed':
        return new CoreError('UPSTREAM', `${where}: the answer could not be read (malformed body)`);
    }
  }
}
