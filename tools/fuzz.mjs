// `npm run fuzz`: the fuzz tests (test/proof/fuzz.test.ts) with 10,000 inputs per surface end to
// end (CLI main, MCP over memory, Slack /number through the real receiver), not the 200 `npm test`
// runs. FUZZ_RUNS and FUZZ_SEED override: FUZZ_RUNS=50000 FUZZ_SEED=3 npm run fuzz
import { spawnSync } from 'node:child_process';

const result = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', 'test/proof/fuzz.test.ts'],
  {
    stdio: 'inherit',
    env: { ...process.env, FUZZ_RUNS: process.env.FUZZ_RUNS ?? '10000' },
    cwd: new URL('..', import.meta.url).pathname,
  },
);
process.exitCode = result.status ?? 1;
