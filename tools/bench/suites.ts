/**
 * The benchmark suites `npm run bench` runs (tools/bench.mjs), each in its own process, in this
 * order. A suite module exports `run(): Promise<BenchRow[]>`; add one line per suite. `--only` and
 * `--skip` take these names (comma-separated). A suite that throws is reported as a failed row
 * with its error and the others still run.
 */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  goal: string;
  /** null: informational, no goal. */
  met: boolean | null;
  /** Decimals to print; 0 when omitted. */
  digits?: number;
}

export interface BenchSuite {
  name: string;
  load: () => Promise<{ run(): Promise<BenchRow[]> }>;
}

export const suites: BenchSuite[] = [
  { name: 'sync', load: () => import('./sync.bench.js') },
  { name: 'search', load: () => import('./search.bench.js') },
  { name: 'slack-ack', load: () => import('./slack-ack.bench.js') },
  { name: 'mcp', load: () => import('./mcp-roundtrip.bench.js') },
];
