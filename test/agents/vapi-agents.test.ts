import { afterEach, describe, expect, it } from 'vitest';
import { createVapiAgents } from '../../src/agents/vapi-agents.js';
import type { VapiAgentsOptions } from '../../src/agents/vapi-agents.js';
import { describeAgentsContract } from '../contracts/agents-contract.js';
import type { VapiScenarioOptions, VapiScenarioServer } from '../helpers/vapi-scenario-server.js';
import {
  DEFAULT_VAPI_ASSISTANTS,
  VAPI_TEST_KEY,
  startVapiScenarioServer,
} from '../helpers/vapi-scenario-server.js';

const CREDENTIAL = 'cred-test-telnyx-0001';
const TWILIO = {
  accountSid: 'AC00000000000000000000000000000000',
  authToken: 'TOKEN_TEST_FAKE_TWILIO',
};
const TELNYX_NUMBER = {
  e164: '+14155550142',
  carrier: 'telnyx' as const,
  carrierRef: '1293384261075731499',
};
const TWILIO_NUMBER = {
  e164: '+14155550143',
  carrier: 'twilio' as const,
  carrierRef: 'PN0000000000000000000000000000test',
};
const [FRONT_DESK, SURVEY] = DEFAULT_VAPI_ASSISTANTS.map((a) => a.id) as [string, string];

const adapterFor = (server: VapiScenarioServer, extra: Partial<VapiAgentsOptions> = {}) =>
  createVapiAgents({
    apiKey: VAPI_TEST_KEY,
    baseUrl: server.url,
    telnyxCredentialId: CREDENTIAL,
    twilio: TWILIO,
    ...extra,
  });

describeAgentsContract('vapi (scenario server)', async () => {
  const server = await startVapiScenarioServer();
  return { agents: adapterFor(server), number: TELNYX_NUMBER, close: () => server.close() };
});

describeAgentsContract('vapi (scenario server, twilio number)', async () => {
  const server = await startVapiScenarioServer();
  return { agents: adapterFor(server), number: TWILIO_NUMBER, close: () => server.close() };
});

describe('vapi adapter scenarios', () => {
  let server: VapiScenarioServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (options: VapiScenarioOptions = {}) =>
    (server = await startVapiScenarioServer(options));

  it("links a Telnyx number with its credential, and the ref is VAPI's phone-number id", async () => {
    const s = await start();
    const { ref } = await adapterFor(s).link(TELNYX_NUMBER, FRONT_DESK, null);
    expect(s.requests.at(-1)?.body).toEqual({
      provider: 'telnyx',
      credentialId: CREDENTIAL,
      number: TELNYX_NUMBER.e164,
      assistantId: FRONT_DESK,
    });
    expect(s.numbers.get(ref!)).toMatchObject({
      number: TELNYX_NUMBER.e164,
      assistantId: FRONT_DESK,
    });
  });

  it('links a Twilio number with smsEnabled false, by token or by API key + secret', async () => {
    const s = await start();
    await adapterFor(s).link(TWILIO_NUMBER, FRONT_DESK, null);
    expect(s.requests.at(-1)?.body).toEqual({
      provider: 'twilio',
      twilioAccountSid: TWILIO.accountSid,
      twilioAuthToken: TWILIO.authToken,
      smsEnabled: false,
      number: TWILIO_NUMBER.e164,
      assistantId: FRONT_DESK,
    });
    const keyed = adapterFor(s, {
      twilio: {
        accountSid: TWILIO.accountSid,
        apiKey: 'SK_TEST_FAKE',
        apiSecret: 'SECRET_TEST_FAKE',
      },
    });
    await keyed.link({ ...TWILIO_NUMBER, e164: '+14155550144' }, SURVEY, null);
    expect(s.requests.at(-1)?.body).toMatchObject({
      twilioApiKey: 'SK_TEST_FAKE',
      twilioApiSecret: 'SECRET_TEST_FAKE',
    });
  });

  it('relinks with PATCH { provider, assistantId } and keeps the ref', async () => {
    const s = await start();
    const agents = adapterFor(s);
    const { ref } = await agents.link(TELNYX_NUMBER, FRONT_DESK, null);
    expect(await agents.link(TELNYX_NUMBER, SURVEY, ref)).toEqual({ ref });
    expect(s.requests.at(-1)).toMatchObject({
      method: 'PATCH',
      path: `/phone-number/${ref}`,
      body: { provider: 'telnyx', assistantId: SURVEY },
    });
    expect(s.numbers.get(ref!)?.assistantId).toBe(SURVEY);
  });

  it('an unknown assistant is null (also a non-UUID id, without asking), and linking to it is refused', async () => {
    const s = await start();
    const agents = adapterFor(s);
    expect(await agents.getAgent('7d2a1b3c-0000-4000-8000-0000000000ff')).toBeNull();
    const before = s.requests.length;
    expect(await agents.getAgent('agent_does_not_exist_0000')).toBeNull();
    expect(s.requests.length).toBe(before);
    await expect(
      agents.link(TELNYX_NUMBER, '7d2a1b3c-0000-4000-8000-0000000000ff', null),
    ).rejects.toMatchObject({
      code: 'UPSTREAM',
      vendorCode: '400',
    });
    expect(s.numbers.size).toBe(0);
  });

  it('a missing Telnyx credential is INVALID_INPUT naming VAPI_TELNYX_CREDENTIAL_ID, before any call', async () => {
    const s = await start();
    const error = await adapterFor(s, { telnyxCredentialId: undefined })
      .link(TELNYX_NUMBER, FRONT_DESK, null)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect((error as Error).message).toContain('VAPI_TELNYX_CREDENTIAL_ID');
    expect(s.requests).toHaveLength(0);
  });

  it('missing Twilio credentials are INVALID_INPUT naming the Twilio variables', async () => {
    const s = await start();
    for (const twilio of [
      undefined,
      { accountSid: TWILIO.accountSid },
      { accountSid: TWILIO.accountSid, apiKey: 'SK_TEST_FAKE' },
    ]) {
      const error = await adapterFor(s, { twilio })
        .link(TWILIO_NUMBER, FRONT_DESK, null)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_INPUT' });
      expect((error as Error).message).toMatch(
        /TWILIO_ACCOUNT_SID.*TWILIO_AUTH_TOKEN.*TWILIO_API_KEY/,
      );
    }
    expect(s.requests).toHaveLength(0);
  });

  it('refuses sandbox numbers', async () => {
    const s = await start();
    await expect(
      adapterFor(s).link({ ...TELNYX_NUMBER, carrier: 'sandbox' }, FRONT_DESK, null),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('a number VAPI already holds is patched instead of failing', async () => {
    const id = '0b7c0000-0000-4000-8000-000000000042';
    const s = await start({
      numbers: [{ id, provider: 'telnyx', number: TELNYX_NUMBER.e164, credentialId: CREDENTIAL }],
    });
    expect(await adapterFor(s).link(TELNYX_NUMBER, SURVEY, null)).toEqual({ ref: id });
    expect(s.numbers.get(id)?.assistantId).toBe(SURVEY);
  });

  it('a relink whose number vanished at VAPI creates it again', async () => {
    const s = await start();
    const { ref } = await adapterFor(s).link(
      TELNYX_NUMBER,
      SURVEY,
      '0b7c0000-0000-4000-8000-0000000000aa',
    );
    expect(ref).not.toBe('0b7c0000-0000-4000-8000-0000000000aa');
    expect(s.numbers.get(ref!)?.assistantId).toBe(SURVEY);
  });

  it('unlink deletes; an id VAPI no longer has, or no ref at all, is fine', async () => {
    const s = await start();
    const agents = adapterFor(s);
    const { ref } = await agents.link(TELNYX_NUMBER, FRONT_DESK, null);
    await agents.unlink(TELNYX_NUMBER, ref);
    expect(s.numbers.size).toBe(0);
    await expect(agents.unlink(TELNYX_NUMBER, ref)).resolves.toBeUndefined();
    await agents.link(TELNYX_NUMBER, FRONT_DESK, null);
    await agents.unlink(TELNYX_NUMBER, null);
    expect(s.numbers.size).toBe(0);
  });

  it('platform down mid-link: 5xx is UNAVAILABLE and no number is created', async () => {
    const s = await start();
    s.failNext('POST /phone-number', { status: 503 });
    await expect(adapterFor(s).link(TELNYX_NUMBER, FRONT_DESK, null)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      vendorCode: '503',
    });
    expect(s.numbers.size).toBe(0);
  });

  it('an answer lost after VAPI created the number: the retry links the same number', async () => {
    const s = await start();
    s.failNext('POST /phone-number', { status: 502, afterCommit: true });
    const agents = adapterFor(s);
    await expect(agents.link(TELNYX_NUMBER, FRONT_DESK, null)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    const { ref } = await agents.link(TELNYX_NUMBER, SURVEY, null);
    expect(s.numbers.size).toBe(1);
    expect(s.numbers.get(ref!)?.assistantId).toBe(SURVEY);
  });

  it('a refused key is UPSTREAM naming VAPI_API_KEY, without the key', async () => {
    const s = await start({ apiKey: 'KEY_TEST_FAKE_VAPI_OTHER' });
    const error = await adapterFor(s)
      .listAgents()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM', vendorCode: '401' });
    expect((error as Error).message).toContain('VAPI_API_KEY');
    expect((error as Error).message).not.toContain(VAPI_TEST_KEY);
  });

  it("a refusal whose message ends with a full stop: one stop, and the key's advice after it", async () => {
    const refuse =
      (status: number, message: string): typeof fetch =>
      async () =>
        new Response(JSON.stringify({ message, error: 'Bad Request', statusCode: status }), {
          status,
        });
    const said = async (status: number, message: string) =>
      String(
        (
          (await createVapiAgents({ apiKey: VAPI_TEST_KEY, fetch: refuse(status, message) })
            .listAgents()
            .catch((e: unknown) => e)) as Error
        ).message,
      );
    expect(await said(400, 'limit must not be greater than 1000.')).toBe(
      'VAPI refused to list assistants: limit must not be greater than 1000.',
    );
    expect(await said(401, 'Invalid key. Please check your key.')).toBe(
      'VAPI refused to list assistants: Invalid key. Please check your key. Check VAPI_API_KEY.',
    );
    expect(await said(401, 'Unauthorized')).toBe(
      'VAPI refused to list assistants: Unauthorized. Check VAPI_API_KEY.',
    );
  });

  it('masks the key if VAPI ever echoes it', async () => {
    const echo: typeof fetch = async (_url, init) =>
      new Response(
        JSON.stringify({
          message: `bad header ${String(new Headers(init?.headers).get('authorization'))}`,
        }),
        { status: 400 },
      );
    const error = await createVapiAgents({ apiKey: VAPI_TEST_KEY, fetch: echo })
      .listAgents()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPSTREAM' });
    expect((error as Error).message).not.toContain(VAPI_TEST_KEY);
    expect((error as Error).message).toContain('[redacted]');
  });

  it('honours VAPI_BASE_URL exactly, path prefix included', async () => {
    const seen: string[] = [];
    const record: typeof fetch = async (url) => {
      seen.push(String(url));
      return new Response('[]', { status: 200 });
    };
    await createVapiAgents({
      apiKey: VAPI_TEST_KEY,
      baseUrl: 'http://proxy.test:8080/vapi/',
      fetch: record,
    }).listAgents();
    expect(seen).toEqual(['http://proxy.test:8080/vapi/assistant?limit=1000']);
  });

  it('timeouts and unreachable hosts are UNAVAILABLE', async () => {
    const s = await start();
    const url = s.url;
    await s.close();
    server = undefined;
    await expect(
      createVapiAgents({ apiKey: VAPI_TEST_KEY, baseUrl: url }).listAgents(),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const hang: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      );
    await expect(
      createVapiAgents({ apiKey: VAPI_TEST_KEY, fetch: hang, timeoutMs: 20 }).listAgents(),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('in time'),
    });
  });
});
