/**
 * The real CLI (`main` from src/cli/main.ts with the real composition root) with two test-only
 * knobs the crash-safety test needs and the product must not have:
 *
 * - PROOF_CRASH_AFTER_STORE=<Store method>: SIGKILL this process right after that store call
 *   committed (e.g. completePurchase: our record is written, the audit event and the answer not).
 * - PROOF_CLOCK_OFFSET_MS=<ms>: run with the clock that far ahead ("the user comes back later").
 *
 * The test bundles this file with esbuild and runs it as a separate process, like bin/switchboard.js.
 */
import { openApp } from '../../src/app.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/config.js';
import type { Deps } from '../../src/core/ports.js';

const crashAfter = process.env.PROOF_CRASH_AFTER_STORE;
const offset = Number(process.env.PROOF_CLOCK_OFFSET_MS ?? 0);

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  openApp: async () => {
    const app = await openApp(loadConfig(process.env));
    const deps = app.deps as { -readonly [K in keyof Deps]: Deps[K] };
    if (offset) deps.clock = { now: () => new Date(Date.now() + offset) };
    if (crashAfter) {
      const store = deps.store as unknown as Record<
        string,
        (...args: unknown[]) => Promise<unknown>
      >;
      const original = store[crashAfter];
      if (typeof original !== 'function') throw new Error(`The store has no method ${crashAfter}`);
      store[crashAfter] = async (...args: unknown[]) => {
        const result = await original.apply(deps.store, args);
        process.kill(process.pid, 'SIGKILL');
        return result;
      };
    }
    return app;
  },
});
