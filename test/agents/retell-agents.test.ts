import { afterEach, describe, expect, it } from 'vitest';
import { createRetellAgents } from '../../src/agents/retell-agents.js';
import type { RetellAgentsOptions } from '../../src/agents/retell-agents.js';
import { describeAgentsContract } from '../contracts/agents-contract.js';
import type {
  RetellScenarioOptions,
  RetellScenarioServer,
} from '../helpers/retell-scenario-server.js';
import { RETELL_TEST_KEY, startRetellScenarioServer } from '../helpers/retell-scenario-server.js';

const TRUNK = 'switchboard-test.pstn.twilio.com';
const NUMBER = {
  e164: '+14155550142',
  carrier: 'twilio' as const,
  carrierRef: 'PN0000000000000000000000000000test',
};

const adapterFor = (server: RetellScenarioServer, extra: Partial<RetellAgentsOptions> = {}) =>
  createRetellAgents({
    apiKey: RETELL_TEST_KEY,
    baseUrl: server.url,
    terminationUri: TRUNK,
    maxRetries: 0,
    ...extra,
  });

describeAgentsContract('retell (scenario server)', async () => {
  const server = await startRetellScenarioServer();
  return { agents: adapterFor(server), number: NUMBER, close: () => server.close() };
});

describeAgentsContract('retell (scenario server, legacy GET /list-agents)', async () => {
  const server = await startRetellScenarioServer({ legacyListOnly: true, notFoundStatus: 404 });
  return { agents: adapterFor(server), number: NUMBER, close: () => server.close() };
});

describe('retell adapter scenarios', () => {
  let server: RetellScenarioServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (options: RetellScenarioOptions = {}) =>
    (server = await startRetellScenarioServer(options));

  it('imports with the trunk and inbound_agents, never the deprecated agent id fields', async () => {
    const s = await start();
    const agents = adapterFor(s, { sipUsername: 'trunk-user', sipPassword: 'trunk-pass' });
    expect(await agents.link(NUMBER, 'agent_sales_0002', null)).toEqual({ ref: NUMBER.e164 });
    const sent = s.requests.find((r) => r.path === '/import-phone-number')!.body;
    expect(sent).toEqual({
      phone_number: NUMBER.e164,
      termination_uri: TRUNK,
      sip_trunk_auth_username: 'trunk-user',
      sip_trunk_auth_password: 'trunk-pass',
      inbound_agents: [{ agent_id: 'agent_sales_0002', weight: 1 }],
    });
    expect(s.numbers.get(NUMBER.e164)?.inbound_agents).toEqual([
      { agent_id: 'agent_sales_0002', weight: 1 },
    ]);
  });

  it('lists voice agents once each, by their newest name, through either list route', async () => {
    for (const legacyListOnly of [false, true]) {
      const s = await startRetellScenarioServer({ legacyListOnly });
      try {
        const list = await adapterFor(s).listAgents();
        expect(list.map((a) => a.id).sort()).toEqual(
          legacyListOnly
            ? ['agent_chat_0003', 'agent_sales_0002', 'agent_support_0001'] // the GET has no channel
            : ['agent_sales_0002', 'agent_support_0001'],
        );
        expect(list.find((a) => a.id === 'agent_support_0001')?.name).toBe('Support line v2');
      } finally {
        await s.close();
      }
    }
  });

  it('remembers the legacy route: the v2 route is probed once per adapter', async () => {
    const s = await start({ legacyListOnly: true });
    const agents = adapterFor(s);
    await agents.listAgents();
    await agents.listAgents();
    expect(s.requests.filter((r) => r.path === '/v2/list-agents')).toHaveLength(1);
    expect(s.requests.filter((r) => r.path === '/list-agents')).toHaveLength(2);
  });

  it('an unknown agent is null (422 and 404 alike), and linking to it is refused', async () => {
    const s = await start();
    const agents = adapterFor(s);
    expect(await agents.getAgent('agent_nobody')).toBeNull();
    await expect(agents.link(NUMBER, 'agent_nobody', null)).rejects.toMatchObject({
      code: 'UPSTREAM',
      vendorCode: '400',
    });
    expect(s.numbers.size).toBe(0);
  });

  it('a number already imported at Retell is updated instead of failing', async () => {
    const s = await start({
      numbers: [
        {
          phone_number: NUMBER.e164,
          termination_uri: TRUNK,
          inbound_agents: [{ agent_id: 'agent_support_0001', weight: 1 }],
        },
      ],
    });
    expect(await adapterFor(s).link(NUMBER, 'agent_sales_0002', null)).toEqual({
      ref: NUMBER.e164,
    });
    expect(s.numbers.get(NUMBER.e164)?.inbound_agents).toEqual([
      { agent_id: 'agent_sales_0002', weight: 1 },
    ]);
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /import-phone-number',
      'GET /get-phone-number/+14155550142',
      'PATCH /update-phone-number/+14155550142',
    ]);
  });

  it('a relink whose number vanished at Retell imports it again', async () => {
    const s = await start();
    const agents = adapterFor(s);
    expect(await agents.link(NUMBER, 'agent_sales_0002', NUMBER.e164)).toEqual({
      ref: NUMBER.e164,
    });
    expect(s.numbers.get(NUMBER.e164)?.inbound_agents[0]?.agent_id).toBe('agent_sales_0002');
  });

  it('unlinking a number Retell no longer has succeeds', async () => {
    const s = await start();
    await expect(adapterFor(s).unlink(NUMBER, NUMBER.e164)).resolves.toBeUndefined();
  });

  it('a missing termination URI is INVALID_INPUT naming RETELL_TERMINATION_URI, before any import', async () => {
    const s = await start();
    const agents = adapterFor(s, { terminationUri: undefined });
    const error = await agents.link(NUMBER, 'agent_sales_0002', null).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect((error as Error).message).toContain('RETELL_TERMINATION_URI');
    expect(s.requests.some((r) => r.path === '/import-phone-number')).toBe(false);
  });

  it('refuses sandbox numbers', async () => {
    const s = await start();
    await expect(
      adapterFor(s).link({ ...NUMBER, carrier: 'sandbox' }, 'agent_sales_0002', null),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('platform down mid-link: 5xx is UNAVAILABLE and nothing is imported', async () => {
    const s = await start();
    s.failNext('POST /import-phone-number', { status: 503, retryAfter: 2 });
    const agents = adapterFor(s);
    await expect(agents.link(NUMBER, 'agent_sales_0002', null)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      vendorCode: '503',
      details: { retryAfterMs: 2000 },
    });
    expect(s.numbers.size).toBe(0);
  });

  it('an answer lost after Retell imported the number: the retry links through update', async () => {
    const s = await start();
    s.failNext('POST /import-phone-number', { status: 502, afterCommit: true });
    const agents = adapterFor(s);
    await expect(agents.link(NUMBER, 'agent_sales_0002', null)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(await agents.link(NUMBER, 'agent_support_0001', null)).toEqual({ ref: NUMBER.e164 });
    expect(s.numbers.get(NUMBER.e164)?.inbound_agents[0]?.agent_id).toBe('agent_support_0001');
  });

  it('the SDK retries a transient failure by itself when allowed to', async () => {
    const s = await start();
    s.failNext('POST /import-phone-number', { status: 503, retryAfter: 0.01 });
    const agents = adapterFor(s, { maxRetries: 1 });
    expect(await agents.link(NUMBER, 'agent_sales_0002', null)).toEqual({ ref: NUMBER.e164 });
  });

  it('a refused key is UPSTREAM, and the key never appears in the error', async () => {
    const s = await start({ apiKey: 'KEY_TEST_FAKE_RETELL_OTHER' });
    const error = await adapterFor(s)
      .listAgents()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM', vendorCode: '401' });
    // Retell's own sentence keeps its one full stop before the advice.
    expect((error as Error).message).toBe(
      'Retell refused to list agents: API key is missing or invalid. Check RETELL_API_KEY.',
    );
    expect(JSON.stringify(error) + String((error as Error).message)).not.toContain(RETELL_TEST_KEY);
  });

  it('honours RETELL_BASE_URL exactly: plain http and a path prefix', async () => {
    const seen: string[] = [];
    const record: typeof fetch = async (url) => {
      seen.push(String(url));
      return new Response(
        JSON.stringify({ agent_id: 'agent_sales_0002', agent_name: 'Sales desk' }),
        {
          status: 200,
          headers: { 'content-type': 'application/json' },
        },
      );
    };
    const agents = createRetellAgents({
      apiKey: RETELL_TEST_KEY,
      baseUrl: 'http://proxy.test:8080/retell',
      maxRetries: 0,
      fetch: record,
    });
    expect(await agents.getAgent('agent_sales_0002')).toMatchObject({
      id: 'agent_sales_0002',
      name: 'Sales desk',
    });
    expect(seen).toEqual(['http://proxy.test:8080/retell/get-agent/agent_sales_0002']);
  });

  it('an unreachable platform is UNAVAILABLE', async () => {
    const s = await start();
    const url = s.url;
    await s.close();
    server = undefined;
    const agents = createRetellAgents({ apiKey: RETELL_TEST_KEY, baseUrl: url, maxRetries: 0 });
    await expect(agents.listAgents()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
