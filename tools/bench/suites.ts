/** Benchmark suites tools/bench/main.ts runs; each exports `run()` returning result rows. */
export const suites = [
  () => import('./slack-ack.bench.js'),
  () => import('./mcp-roundtrip.bench.js'),
];
