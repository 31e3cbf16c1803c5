// `npm run fault-run`: 1,000 mixed operations from concurrent actors against the sandbox carrier and
// agents injecting 20 % faults, then a check of the books (tools/fault-run/). The TypeScript is
// bundled with esbuild into node_modules/.cache (so its packages resolve) and run there.
// Arguments pass through: npm run fault-run -- --operations 200 --seed 7 --json
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const cache = new URL('../node_modules/.cache/', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'switchboard-fault-run-'));
try {
  await build({
    entryPoints: [new URL('./fault-run/main.ts', import.meta.url).pathname],
    outfile: join(out, 'fault-run.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  execFileSync(process.execPath, [join(out, 'fault-run.mjs'), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
} catch (error) {
  process.exitCode = typeof error?.status === 'number' ? error.status : 1;
  if (typeof error?.status !== 'number') console.error(error);
} finally {
  rmSync(out, { recursive: true, force: true });
}
