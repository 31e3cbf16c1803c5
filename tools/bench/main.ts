/**
 * Runs one benchmark suite of suites.ts, named by the first argument, and prints its rows as one
 * JSON line, the last on stdout; tools/bench.mjs runs each suite in its own process this way so
 * that one suite's failure, leaked handle or memory cannot touch the others. Figures only,
 * nothing asserted.
 */
import { suites } from './suites.js';

const name = process.argv[2];
if (name === '--list') {
  process.stdout.write(`${JSON.stringify(suites.map((s) => s.name))}\n`);
  process.exit(0);
}
const suite = suites.find((s) => s.name === name);
if (!suite) {
  process.stderr.write(
    `bench: no suite "${name ?? ''}". Suites: ${suites.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
const rows = await (await suite.load()).run();
process.stdout.write(`\n${JSON.stringify(rows)}\n`);
// A suite that leaves a socket or timer open must not hang the runner.
process.exit(0);
