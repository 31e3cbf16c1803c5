/**
 * Announcing requests made outside Slack: on every store, the first claim of a request wins and
 * the list of requests still to announce leaves out announced, decided and expired ones. And
 * outcome notices (migration 016): ended requests made in Slack or on a member's behalf that no
 * approval message carries are listed until one caller claims the notice of their outcome.
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

for (const { name, make, skip } of STORES) {
  describe.skipIf(skip)(`slack outcome notices (${name} store)`, () => {
    let store: SqlStore;
    afterEach(async () => {
      await store.close();
    });

    it('lists ended Slack and on-behalf requests no message carries, once per outcome', async () => {
      store = await make();
      const cases = [
        // [id, requester, surface, on behalf of]
        ['R-SLACK', 'U01ALICE', 'slack', null],
        ['R-TOKEN', 'mcp:bob-claude', 'mcp', 'U01BOB'],
        ['R-CLI', 'U01CAROL', 'cli', null],
        ['R-WITHDRAWN', 'U01ALICE', 'slack', null],
        ['R-MESSAGE', 'U01ALICE', 'slack', null],
        ['R-PENDING', 'U01ALICE', 'slack', null],
      ] as const;
      await store.saveQuotes(cases.map(([id], i) => quote(`Q-${id}`, `+1415555020${i}`)));
      for (const [id, requester, surface, onBehalfOf] of cases) {
        const created = await store.createPurchaseRequest({
          id,
          requester,
          surface,
          ...(onBehalfOf ? { onBehalfOf } : {}),
          quoteId: `Q-${id}`,
          areaCode: null,
          reason: null,
          expiresAt: LATER(60),
          memberCap: null,
          monthlyBudget: null,
          now: NOW,
        });
        expect(created.status).toBe('created');
      }
      for (const id of ['R-SLACK', 'R-TOKEN', 'R-CLI', 'R-MESSAGE'])
        await store.decideRequest(id, 'U01DAVE', false, 'not now', NOW);
      await store.decideRequest('R-WITHDRAWN', 'U01ALICE', false, 'changed my mind', NOW);
      // R-MESSAGE has an approval message, which carries its outcome (redrawn in place).
      await store.saveSlackMessage({
        requestId: 'R-MESSAGE',
        channel: 'C0APPROVALS',
        ts: '1.000100',
        renderedStatus: 'pending',
      });

      const since = LATER(-1);
      expect((await store.listUnnoticedOutcomes(since, 10)).map((r) => r.id).sort()).toEqual([
        'R-SLACK',
        'R-TOKEN',
      ]);
      const claims = await Promise.all(
        Array.from({ length: 5 }, () => store.claimSlackNotice('R-SLACK', 'denied')),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect((await store.listUnnoticedOutcomes(since, 10)).map((r) => r.id)).toEqual(['R-TOKEN']);
      // Ended before `since`: left alone.
      expect(await store.listUnnoticedOutcomes(LATER(1), 10)).toEqual([]);
      expect(await store.listUnnoticedOutcomes(since, 0)).toEqual([]);
    });
  });
}
