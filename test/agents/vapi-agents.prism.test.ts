/**
 * Contract test: the VAPI adapter's fetch client against a Prism mock of VAPI's own OpenAPI
 * document (trimmed: request bodies strict, response schemas two `$ref` levels deep, behind the
 * proxy that refuses undeclared query keys). Every request the adapter makes must be one the spec
 * accepts. Data flow belongs to the scenario tests: Prism answers examples.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVapiAgents } from '../../src/agents/vapi-agents.js';
import type { VapiAgentsOptions } from '../../src/agents/vapi-agents.js';
import type { PrismMock } from '../helpers/prism.js';
import { requestsFor, startPrism } from '../helpers/prism.js';
import { VAPI_TEST_KEY } from '../helpers/vapi-scenario-server.js';

const SPEC = 'test/contracts/specs/vapi.trimmed.json';
const ASSISTANT = '7d2a1b3c-0000-4000-8000-000000000001';
const PHONE_ID = '0b7c0000-0000-4000-8000-000000000042';
const TELNYX_NUMBER = { e164: '+14155550142', carrier: 'telnyx' as const, carrierRef: null };
const TWILIO_NUMBER = { e164: '+14155550143', carrier: 'twilio' as const, carrierRef: null };

describe("vapi adapter against the Prism mock of VAPI's spec", () => {
  let prism: PrismMock;
  beforeAll(async () => {
    prism = await startPrism(SPEC, { startTimeoutMs: 50_000 });
  });
  afterAll(async () => {
    await prism?.close();
  });

  const adapter = (extra: Partial<VapiAgentsOptions> = {}) =>
    createVapiAgents({
      apiKey: VAPI_TEST_KEY,
      baseUrl: prism.url,
      telnyxCredentialId: 'cred-test-telnyx-0001',
      twilio: {
        accountSid: 'AC00000000000000000000000000000000',
        authToken: 'TOKEN_TEST_FAKE_TWILIO',
      },
      ...extra,
    });

  const lastOk = (operation: string, status: number) => {
    const request = requestsFor(prism, operation).at(-1);
    expect(request, operation).toBeDefined();
    expect(request).toMatchObject({ status, rejected: [], violations: [] });
    expect(request!.headers.authorization).toBe(`Bearer ${VAPI_TEST_KEY}`);
    return request!;
  };

  it('lists assistants', async () => {
    const agents = await adapter().listAgents();
    for (const agent of agents)
      expect(agent).toMatchObject({ platform: 'vapi', sandbox: false, id: expect.any(String) });
    expect(lastOk('GET /assistant', 200).query).toEqual([['limit', '1000']]);
  });

  it('gets an assistant', async () => {
    expect(await adapter().getAgent(ASSISTANT)).toMatchObject({
      platform: 'vapi',
      id: expect.any(String),
    });
    expect(lastOk('GET /assistant/{id}', 200).path).toBe(`/assistant/${ASSISTANT}`);
  });

  it('links a Telnyx number (no smsEnabled: the Telnyx variant has no such field)', async () => {
    const { ref } = await adapter().link(TELNYX_NUMBER, ASSISTANT, null);
    expect(typeof ref).toBe('string');
    expect(lastOk('POST /phone-number', 201).body).toEqual({
      provider: 'telnyx',
      credentialId: 'cred-test-telnyx-0001',
      number: TELNYX_NUMBER.e164,
      assistantId: ASSISTANT,
    });
  });

  it('links a Twilio number with smsEnabled false, by token and by API key + secret', async () => {
    await adapter().link(TWILIO_NUMBER, ASSISTANT, null);
    expect(lastOk('POST /phone-number', 201).body).toMatchObject({
      provider: 'twilio',
      smsEnabled: false,
      twilioAuthToken: 'TOKEN_TEST_FAKE_TWILIO',
    });
    await adapter({
      twilio: {
        accountSid: 'AC00000000000000000000000000000000',
        apiKey: 'SK_TEST_FAKE',
        apiSecret: 'SECRET_TEST_FAKE',
      },
    }).link(TWILIO_NUMBER, ASSISTANT, null);
    expect(lastOk('POST /phone-number', 201).body).toMatchObject({
      twilioApiKey: 'SK_TEST_FAKE',
      twilioApiSecret: 'SECRET_TEST_FAKE',
    });
  });

  it('relinks with PATCH { provider, assistantId }', async () => {
    await adapter().link(TELNYX_NUMBER, ASSISTANT, PHONE_ID);
    const request = lastOk('PATCH /phone-number/{id}', 200);
    expect(request.path).toBe(`/phone-number/${PHONE_ID}`);
    expect(request.body).toEqual({ provider: 'telnyx', assistantId: ASSISTANT });
  });

  it('unlinks by deleting the phone number, and finds it by number when no ref is known', async () => {
    await expect(adapter().unlink(TELNYX_NUMBER, PHONE_ID)).resolves.toBeUndefined();
    expect(lastOk('DELETE /phone-number/{id}', 200).path).toBe(`/phone-number/${PHONE_ID}`);
    await expect(adapter().unlink(TELNYX_NUMBER, null)).resolves.toBeUndefined();
    expect(lastOk('GET /phone-number', 200).query).toEqual([['limit', '1000']]);
  });

  it('the mock is strict: a field the Telnyx variant lacks would be refused', async () => {
    const response = await fetch(`${prism.url}/phone-number`, {
      method: 'POST',
      headers: { authorization: `Bearer ${VAPI_TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        provider: 'telnyx',
        number: TELNYX_NUMBER.e164,
        credentialId: 'cred',
        smsEnabled: false,
      }),
    });
    expect(response.status).toBe(422);
  });

  it('the mock is strict: a PATCH without provider matches every variant and is refused', async () => {
    const response = await fetch(`${prism.url}/phone-number/${PHONE_ID}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${VAPI_TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assistantId: ASSISTANT }),
    });
    expect(response.status).toBe(422);
  });
});
