/**
 * The core `link` and `unlink` commands over the real Retell and VAPI adapters (on their scenario
 * servers) and a real PGlite store: what the platform holds and what Switchboard records agree,
 * also when the platform fails halfway.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRetellAgents } from '../../src/agents/retell-agents.js';
import { createVapiAgents } from '../../src/agents/vapi-agents.js';
import { runCommand } from '../../src/core/command.js';
import { link, unlink } from '../../src/core/commands/index.js';
import type { CarrierName } from '../../src/core/types.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ALICE, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import type { RetellScenarioServer } from '../helpers/retell-scenario-server.js';
import { RETELL_TEST_KEY, startRetellScenarioServer } from '../helpers/retell-scenario-server.js';
import { freshPglite } from '../helpers/stores.js';
import type { VapiScenarioServer } from '../helpers/vapi-scenario-server.js';
import {
  DEFAULT_VAPI_ASSISTANTS,
  VAPI_TEST_KEY,
  startVapiScenarioServer,
} from '../helpers/vapi-scenario-server.js';

const TWILIO_NUMBER = '+14155550142';
const TELNYX_NUMBER = '+14155550199';
const [FRONT_DESK, SURVEY] = DEFAULT_VAPI_ASSISTANTS.map((a) => a.id) as [string, string];

let store: SqlStore;
let deps: TestDeps;
let retell: RetellScenarioServer;
let vapi: VapiScenarioServer;

async function addNumber(e164: string, carrier: CarrierName): Promise<void> {
  const runId = `sync-${carrier}-${e164}`;
  await store.syncBegin(runId, carrier, 'system', new Date());
  await store.syncBatch(runId, carrier, [
    {
      e164,
      carrierRef: `${carrier}-ref-${e164}`,
      carrierAccount: null,
      country: 'US',
      region: 'CA',
      locality: 'San Francisco',
      numberType: 'local',
      features: ['voice'],
      monthlyCost: 1.15,
      upfrontCost: 0,
      currency: 'USD',
    },
  ]);
  await store.syncFinish(runId, new Date());
  expect(await store.claimNumber(e164, ALICE.id, null)).toMatchObject({ status: 'claimed' });
}

beforeEach(async () => {
  store = await freshPglite();
  retell = await startRetellScenarioServer();
  vapi = await startVapiScenarioServer();
  deps = makeDeps(store);
  deps.agents = {
    retell: createRetellAgents({
      apiKey: RETELL_TEST_KEY,
      baseUrl: retell.url,
      terminationUri: 'test.pstn.twilio.com',
      maxRetries: 0,
    }),
    vapi: createVapiAgents({
      apiKey: VAPI_TEST_KEY,
      baseUrl: vapi.url,
      telnyxCredentialId: 'cred-test-telnyx-0001',
      twilio: {
        accountSid: 'AC00000000000000000000000000000000',
        authToken: 'TOKEN_TEST_FAKE_TWILIO',
      },
    }),
  };
  await addNumber(TWILIO_NUMBER, 'twilio');
  await addNumber(TELNYX_NUMBER, 'telnyx');
});
afterEach(async () => {
  await Promise.all([store.close(), retell.close(), vapi.close()]);
});

const run = (command: { name: string }, input: unknown) =>
  runCommand(deps, command as never, ALICE, input);

describe('link and unlink through the real adapters', () => {
  it('links at Retell and records the link; unlink removes it at Retell and here', async () => {
    await run(link, { number: TWILIO_NUMBER, agent: 'retell:agent_sales_0002' });
    expect((await store.getNumber(TWILIO_NUMBER))?.agent).toMatchObject({
      platform: 'retell',
      agentId: 'agent_sales_0002',
      ref: TWILIO_NUMBER,
    });
    expect(retell.numbers.get(TWILIO_NUMBER)?.inbound_agents).toEqual([
      { agent_id: 'agent_sales_0002', weight: 1 },
    ]);
    await run(unlink, { number: TWILIO_NUMBER });
    expect((await store.getNumber(TWILIO_NUMBER))?.agent).toBeNull();
    expect(retell.numbers.size).toBe(0);
  });

  it('platform down mid-link: Retell answers 503, the command fails and nothing is recorded as linked', async () => {
    retell.failNext('POST /import-phone-number', { status: 503 });
    await expect(
      run(link, { number: TWILIO_NUMBER, agent: 'retell:agent_sales_0002' }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await store.getNumber(TWILIO_NUMBER))?.agent).toBeNull();
    expect(retell.numbers.size).toBe(0);
  });

  it('platform down mid-link: VAPI answers 500, nothing is recorded as linked', async () => {
    vapi.failNext('POST /phone-number', { status: 500 });
    await expect(
      run(link, { number: TELNYX_NUMBER, agent: `vapi:${FRONT_DESK}` }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await store.getNumber(TELNYX_NUMBER))?.agent).toBeNull();
    expect(vapi.numbers.size).toBe(0);
  });

  it('an unknown agent is NOT_FOUND before anything is touched', async () => {
    await expect(
      run(link, { number: TWILIO_NUMBER, agent: 'retell:agent_nobody' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      run(link, { number: TELNYX_NUMBER, agent: 'vapi:not-a-uuid' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(retell.numbers.size + vapi.numbers.size).toBe(0);
  });

  it('a missing VAPI credential is INVALID_INPUT and nothing is linked', async () => {
    deps.agents.vapi = createVapiAgents({ apiKey: VAPI_TEST_KEY, baseUrl: vapi.url });
    await expect(
      run(link, { number: TELNYX_NUMBER, agent: `vapi:${FRONT_DESK}` }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('VAPI_TELNYX_CREDENTIAL_ID'),
    });
    expect((await store.getNumber(TELNYX_NUMBER))?.agent).toBeNull();
  });

  it('relinks at VAPI with the stored ref, then moving to Retell unlinks at VAPI first', async () => {
    await run(link, { number: TELNYX_NUMBER, agent: `vapi:${FRONT_DESK}` });
    const ref = (await store.getNumber(TELNYX_NUMBER))?.agent?.ref;
    expect(vapi.numbers.get(ref!)?.assistantId).toBe(FRONT_DESK);
    await run(link, { number: TELNYX_NUMBER, agent: `vapi:${SURVEY}` });
    expect((await store.getNumber(TELNYX_NUMBER))?.agent).toMatchObject({ agentId: SURVEY, ref });
    expect(vapi.numbers.get(ref!)?.assistantId).toBe(SURVEY);
    await run(link, { number: TELNYX_NUMBER, agent: 'retell:agent_support_0001' });
    expect(vapi.numbers.size).toBe(0);
    expect(retell.numbers.has(TELNYX_NUMBER)).toBe(true);
    expect((await store.getNumber(TELNYX_NUMBER))?.agent).toMatchObject({
      platform: 'retell',
      ref: TELNYX_NUMBER,
    });
  });
});
