/**
 * The fault run (issue 8, item 2), smaller: 200 mixed operations from six concurrent actors
 * through the command core, 20 % of sandbox carrier and agent calls faulted (429 with
 * Retry-After, 5xx, timeouts, malformed bodies, orders left pending). Then the books must balance:
 * no duplicate, no lost request, every request in a definite state, the carrier's numbers equal to
 * our records, every request and release in the audit trail. `npm run fault-run` runs 1,000.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/store/sql-store.js';
import { runFaultRun } from '../../tools/fault-run/fault-run.js';
import { freshPglite } from '../helpers/stores.js';

let store: SqlStore;
beforeEach(async () => {
  store = await freshPglite();
});
afterEach(async () => {
  await store.close();
});

describe('fault run (200 operations, 20 % faults)', { timeout: 300_000 }, () => {
  for (const seed of [42, 7]) {
    it(`balances the books (seed ${seed})`, async () => {
      const report = await runFaultRun({ store, operations: 200, faultRate: 0.2, seed });
      expect(report.problems.filter((p) => !p.includes('needs attention'))).toEqual([]);
      expect(report.books).toMatchObject({
        duplicates: 0,
        lostRequests: 0,
        notDefinite: 0,
        carrierVsRecords: 0,
        recordsVsAudit: 0,
        internalErrors: 0,
      });
      // The run did what it says: faults were injected and retried, purchases went through.
      expect(report.operations).toBe(200);
      expect(report.calls.faulted).toBeGreaterThan(10);
      expect(report.retries.total).toBeGreaterThan(0);
      expect(report.books.numbersBought).toBeGreaterThan(0);
    });
  }
});
