/**
 * Announcing requests made outside Slack: on every store, the first claim of a request wins and
 * the list of requests still to announce leaves out announced, decided and expired ones.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/store/sql-store.js';
import { STORES } from '../helpers/stores.js';
import { minutesLater, sandboxQuote, TEST_NOW } from '../helpers/fixtures.js';

// Now, to the minute: the database compares some times with its own clock.
const NOW = TEST_NOW;
const LATER = minutesLater;

const quote = (id: string, e164: string) => sandboxQuote(id, e164);

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`slack announcements (${name} store)`, () => {
    let store: SqlStore;
    beforeEach(async () => {
      store = await make();
      await store.saveQuotes([
        quote('Q-A', '+14155550101'),
        quote('Q-B', '+14155550102'),
        quote('Q-C', '+14155550103'),
      ]);
      for (const [id, quoteId, minutes] of [
        ['R-AAAA', 'Q-A', 60],
        ['R-BBBB', 'Q-B', 60],
        ['R-CCCC', 'Q-C', 5],
      ] as const) {
        const created = await store.createPurchaseRequest({
          id,
          requester: 'mcp:assistant',
          surface: 'mcp',
          quoteId,
          areaCode: null,
          reason: null,
          expiresAt: LATER(minutes),
          memberCap: null,
          monthlyBudget: null,
          now: NOW,
        });
        expect(created.status).toBe('created');
      }
    });
    afterEach(async () => {
      await store.close();
    });

    it('lists pending, unexpired, unannounced requests; the first claim wins', async () => {
      expect((await store.listUnannouncedRequests(NOW, 10)).map((r) => r.id)).toEqual([
        'R-AAAA',
        'R-BBBB',
        'R-CCCC',
      ]);
      const claims = await Promise.all(
        Array.from({ length: 5 }, () => store.claimSlackAnnouncement('R-AAAA')),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      await store.decideRequest('R-BBBB', 'U01BOB', false, 'no', NOW);
      // R-CCCC expires at +5 minutes.
      expect((await store.listUnannouncedRequests(LATER(10), 10)).map((r) => r.id)).toEqual([]);
      expect((await store.listUnannouncedRequests(NOW, 10)).map((r) => r.id)).toEqual(['R-CCCC']);
      expect(await store.listUnannouncedRequests(NOW, 0)).toEqual([]);
    });
  });
}
