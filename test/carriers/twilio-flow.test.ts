/**
 * The command core end to end on the Twilio adapter (scenario server) and a real PGlite store:
 * request, approve, buy, sync, release; and a purchase whose answer is lost, settled by the next
 * sync without buying twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioCarrier } from '../../src/carriers/twilio-carrier.js';
import { runCommand } from '../../src/core/command.js';
import { approve, buy, release, sync } from '../../src/core/commands/index.js';
import type { Actor } from '../../src/core/types.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ADMIN, ALICE, BOB, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';
import {
  TWILIO_TEST_SID,
  TWILIO_TEST_SUBACCOUNT,
  TWILIO_TEST_TOKEN,
  startTwilioScenario,
} from '../helpers/twilio-scenario-server.js';
import type { TwilioScenarioServer } from '../helpers/twilio-scenario-server.js';

let store: SqlStore;
let deps: TestDeps;
let server: TwilioScenarioServer;

beforeEach(async () => {
  server = await startTwilioScenario();
  store = await freshPglite();
  deps = makeDeps(store);
  deps.carriers = {
    twilio: createTwilioCarrier({
      accountSid: TWILIO_TEST_SID,
      authToken: TWILIO_TEST_TOKEN,
      baseUrl: server.url,
      timeoutMs: 300,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    }),
  };
});
afterEach(async () => {
  await store.close();
  await server.close();
});

const run = <O>(command: { name: string }, actor: Actor, input: unknown) =>
  runCommand(deps, command as never, actor, input) as Promise<O>;

interface Request {
  id: string;
  e164: string;
  status: string;
  errorCode: string | null;
}

const ownedAtTwilio = (e164: string) =>
  [...server.owned.values()].filter((n) => n.phoneNumber === e164);

describe('core on twilio (scenario server)', () => {
  it('parks a purchase whose answer and lookup both failed, and the next sync records it: bought once', async () => {
    const { request } = await run<{ request: Request }>(buy, ALICE, {
      target: '415',
      carrier: 'twilio',
    });
    server.failNext('POST /IncomingPhoneNumbers.json', { hang: true, afterCommit: true });
    // The ownership check before the POST passes; every lookup after it fails until the sync.
    server.failNext('GET /IncomingPhoneNumbers.json', { status: 503, after: 1, times: 4 });
    const approved = await run<{ request: Request }>(approve, BOB, { id: request.id });
    expect(approved.request).toMatchObject({
      status: 'needs_attention',
      errorCode: 'UNKNOWN_OUTCOME',
    });

    const synced = await run<{ reconciled: Request[] }>(sync, ADMIN, { carrier: 'twilio' });
    expect(synced.reconciled).toEqual([
      expect.objectContaining({ id: request.id, status: 'done' }),
    ]);
    expect(server.count('POST')).toBe(1);
    expect(ownedAtTwilio(request.e164)).toHaveLength(1);
  });

  it('buys an approved request once, syncs the account, and releases the number at Twilio', async () => {
    const { request } = await run<{ request: Request }>(buy, ALICE, {
      target: '415',
      carrier: 'twilio',
    });
    const approved = await run<{ request: Request; number: { carrierRef: string } }>(approve, BOB, {
      id: request.id,
    });
    expect(approved.request.status).toBe('done');
    expect(ownedAtTwilio(request.e164)).toEqual([
      expect.objectContaining({ friendlyName: request.id, sid: approved.number.carrierRef }),
    ]);

    const synced = await run<{ results: Array<{ run: { seen: number; new: number } }> }>(
      sync,
      ADMIN,
      { carrier: 'twilio' },
    );
    // 3 main-account numbers and 1 subaccount number were there before; ours is already recorded.
    expect(synced.results[0]!.run).toMatchObject({ seen: 5, new: 4 });

    await run(release, ALICE, { number: request.e164 });
    expect(ownedAtTwilio(request.e164)).toEqual([]);
  });

  it('buys into a named subaccount when the request says so (buy --account)', async () => {
    const { request } = await run<{ request: Request & { carrierAccount: string } }>(buy, ALICE, {
      target: '415',
      carrier: 'twilio',
      account: TWILIO_TEST_SUBACCOUNT,
    });
    expect(request.carrierAccount).toBe(TWILIO_TEST_SUBACCOUNT);
    const approved = await run<{ request: Request; number: { carrierAccount: string } }>(
      approve,
      BOB,
      { id: request.id },
    );
    expect(approved.request.status).toBe('done');
    expect(approved.number.carrierAccount).toBe(TWILIO_TEST_SUBACCOUNT);
    expect(ownedAtTwilio(request.e164)).toEqual([
      expect.objectContaining({ accountSid: TWILIO_TEST_SUBACCOUNT }),
    ]);
  });

  it('refuses --account for a carrier without subaccounts', async () => {
    deps.carriers = { sandbox: deps.sandbox };
    await expect(
      run(buy, ALICE, { target: '415', account: TWILIO_TEST_SUBACCOUNT }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('--carrier twilio'),
    });
  });

  it('settles a purchase whose answer was lost by looking it up at once, without buying twice', async () => {
    const { request } = await run<{ request: Request }>(buy, ALICE, {
      target: '212',
      carrier: 'twilio',
    });
    server.failNext('POST /IncomingPhoneNumbers.json', { hang: true, afterCommit: true });
    // The lookup right after the timeout finds the number, so the request completes at once.
    const approved = await run<{ request: Request }>(approve, BOB, { id: request.id });
    expect(approved.request.status).toBe('done');
    expect(server.count('POST')).toBe(1);
    expect(ownedAtTwilio(request.e164)).toHaveLength(1);
  });

  it('fails a purchase answered 500 before Twilio acted as not ordered: nothing bought, no second POST', async () => {
    const { request } = await run<{ request: Request }>(buy, ALICE, {
      target: '212',
      carrier: 'twilio',
    });
    server.failNext('POST /IncomingPhoneNumbers.json', { status: 500 });
    const approved = await run<{ request: Request }>(approve, BOB, { id: request.id });
    // Not processed at the server: the lookup finds nothing, so nothing was bought.
    expect(approved.request).toMatchObject({ status: 'failed', errorCode: 'NOT_ORDERED' });
    expect(server.count('POST')).toBe(1);
    expect(ownedAtTwilio(request.e164)).toHaveLength(0);
  });
});
