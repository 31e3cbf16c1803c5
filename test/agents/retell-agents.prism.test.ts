/**
 * Contract test: the Retell adapter, through the real `retell-sdk`, against a Prism mock of Retell's
 * own OpenAPI document (trimmed, request bodies strict, behind the proxy that refuses undeclared
 * query keys). Every request the adapter makes must be one the spec accepts. Data flow (a number
 * that stays imported, "already imported") belongs to the scenario tests: Prism answers examples.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetellAgents } from '../../src/agents/retell-agents.js';
import type { PrismMock } from '../helpers/prism.js';
import { requestsFor, startPrism } from '../helpers/prism.js';
import { RETELL_TEST_KEY } from '../helpers/retell-scenario-server.js';

const SPEC = 'test/contracts/specs/retell.trimmed.json';
const NUMBER = { e164: '+14157774444', carrier: 'twilio' as const, carrierRef: null };
const AGENT = '16b980523634a6dc504898cda492e939';

describe("retell adapter against the Prism mock of Retell's spec", () => {
  let prism: PrismMock;
  beforeAll(async () => {
    prism = await startPrism(SPEC);
  });
  afterAll(async () => {
    await prism?.close();
  });

  const adapter = () =>
    createRetellAgents({
      apiKey: RETELL_TEST_KEY,
      baseUrl: prism.url,
      terminationUri: 'someuri.pstn.twilio.com',
      sipUsername: 'trunk-user',
      sipPassword: 'trunk-pass',
      maxRetries: 0,
    });

  /** The last request of an operation: answered with success and no Prism violations. */
  const lastOk = (operation: string, status: number) => {
    const request = requestsFor(prism, operation).at(-1);
    expect(request, operation).toBeDefined();
    expect(request).toMatchObject({ status, rejected: [], violations: [] });
    expect(request!.headers.authorization).toBe(`Bearer ${RETELL_TEST_KEY}`);
    return request!;
  };

  it('lists agents: the v2 route is not in this spec revision, so the GET /list-agents fallback serves', async () => {
    const agents = await adapter().listAgents();
    expect(agents.length).toBeGreaterThan(0);
    for (const agent of agents)
      expect(agent).toMatchObject({ platform: 'retell', sandbox: false, id: expect.any(String) });
    expect(prism.requests.some((r) => r.path === '/v2/list-agents' && r.status === 404)).toBe(true);
    expect(lastOk('GET /list-agents', 200).query).toEqual([['limit', '1000']]);
  });

  it('gets an agent', async () => {
    expect(await adapter().getAgent(AGENT)).toMatchObject({
      platform: 'retell',
      id: expect.any(String),
    });
    expect(lastOk('GET /get-agent/{agent_id}', 200).path).toBe(`/get-agent/${AGENT}`);
  });

  it('links by importing with the trunk and inbound_agents', async () => {
    expect(await adapter().link(NUMBER, AGENT, null)).toEqual({ ref: NUMBER.e164 });
    expect(lastOk('POST /import-phone-number', 201).body).toEqual({
      phone_number: NUMBER.e164,
      termination_uri: 'someuri.pstn.twilio.com',
      sip_trunk_auth_username: 'trunk-user',
      sip_trunk_auth_password: 'trunk-pass',
      inbound_agents: [{ agent_id: AGENT, weight: 1 }],
    });
  });

  it('relinks by updating inbound_agents', async () => {
    expect(await adapter().link(NUMBER, AGENT, NUMBER.e164)).toEqual({ ref: NUMBER.e164 });
    const request = lastOk('PATCH /update-phone-number/{phone_number}', 200);
    expect(decodeURIComponent(request.path)).toBe(`/update-phone-number/${NUMBER.e164}`);
    expect(request.body).toEqual({ inbound_agents: [{ agent_id: AGENT, weight: 1 }] });
  });

  it('unlinks by deleting the number', async () => {
    await expect(adapter().unlink(NUMBER, NUMBER.e164)).resolves.toBeUndefined();
    lastOk('DELETE /delete-phone-number/{phone_number}', 204);
  });

  it('the mock is strict: a deprecated or misspelled field would be refused', async () => {
    const response = await fetch(
      `${prism.url}/update-phone-number/${encodeURIComponent(NUMBER.e164)}`,
      {
        method: 'PATCH',
        headers: { authorization: `Bearer ${RETELL_TEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inbound_agent: [{ agent_id: AGENT, weight: 1 }] }),
      },
    );
    expect(response.status).toBe(422);
  });
});
