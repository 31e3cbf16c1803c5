/**
 * `npm run fault-run [-- --operations N --fault-rate 0.2 --seed 42 --json]`: the fault run on an
 * embedded store in a temporary folder. Prints the books; exits 1 if they do not balance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openPgliteStore } from '../../src/store/pglite-store.js';
import { runFaultRun } from './fault-run.js';
import type { FaultRunReport } from './fault-run.js';

const { values } = parseArgs({
  options: {
    operations: { type: 'string', default: '1000' },
    'fault-rate': { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '42' },
    json: { type: 'boolean', default: false },
  },
});

const dir = mkdtempSync(join(tmpdir(), 'switchboard-fault-run-'));
const store = await openPgliteStore({ dataDir: join(dir, 'data') });
let report: FaultRunReport;
try {
  report = await runFaultRun({
    store,
    operations: Number(values.operations),
    faultRate: Number(values['fault-rate']),
    seed: Number(values.seed),
  });
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

const b = report.books;
const balanced =
  b.duplicates === 0 &&
  b.lostRequests === 0 &&
  b.notDefinite === 0 &&
  b.carrierVsRecords === 0 &&
  b.recordsVsAudit === 0 &&
  b.internalErrors === 0;

if (values.json) {
  console.log(JSON.stringify({ balanced, ...report }, null, 2));
} else {
  const pad = (text: string | number, width: number) => String(text).padStart(width);
  console.log(
    `Fault run: ${report.operations} operations from ${report.actors} concurrent actors, ` +
      `${Math.round(Number(values['fault-rate']) * 100)} % of sandbox calls faulted, seed ${values.seed}, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  console.log('\nOPERATION       OK  REFUSED  FAILED  INTERNAL  SKIPPED (nothing to act on)');
  for (const [op, o] of Object.entries(report.byOperation).sort())
    console.log(
      `${op.padEnd(10)}${pad(o.ok, 8)}${pad(o.refused, 9)}${pad(o.failed, 8)}${pad(o.internal, 10)}${pad(o.skipped, 9)}`,
    );
  console.log(
    `\nFaults injected: ${Object.entries(report.faultsInjected)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (${report.calls.faulted} in all)`,
  );
  console.log(
    `Retries: ${report.retries.total} (${Object.entries(report.retries.byCode)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}); gave up after retries: ${report.retries.gaveUp}`,
  );
  console.log(
    `\nRequests: ${b.requests} (${Object.entries(b.byStatus)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}); carrier orders ${b.carrierOrders}, numbers bought ${b.numbersBought}`,
  );
  const line = (label: string, value: number, must = true) =>
    console.log(
      `${label.padEnd(36)}${pad(value, 5)}${must ? (value === 0 ? '  ok' : '  MUST BE 0') : ''}`,
    );
  line('duplicates', b.duplicates);
  line('lost requests', b.lostRequests);
  line('requests not in a definite state', b.notDefinite);
  line('carrier vs our records mismatches', b.carrierVsRecords);
  line('records vs audit trail mismatches', b.recordsVsAudit);
  line('internal errors', b.internalErrors);
  line('needs attention (a person must look)', b.needsAttention, false);
  if (report.problems.length) {
    console.log('\nFindings:');
    for (const problem of report.problems.slice(0, 50)) console.log(`  - ${problem}`);
  }
  console.log(balanced ? '\nThe books balance.' : '\nThe books DO NOT balance.');
}
process.exitCode = balanced ? 0 : 1;
