/**
 * VAPI through a small typed fetch client rather than `@vapi-ai/server-sdk`. The five calls below
 * are all we need, and the SDK is costly to load for a CLI that links one number: measured on this
 * machine (Node 20, six fresh processes each timing `await import(…)`, node startup excluded):
 * `@vapi-ai/server-sdk` 2.0.1 took 582–630 ms (median 595 ms); this module, bundled with esbuild,
 * 3.7–7.5 ms (median 4 ms). For comparison `retell-sdk` 5.66.1 took 22–36 ms.
 *
 * - link: `POST /phone-number` with `provider` `telnyx` (`credentialId`: VAPI_TELNYX_CREDENTIAL_ID)
 *   or `twilio` (`twilioAccountSid` and the token or API key + secret), `number`, `assistantId`.
 *   `smsEnabled: false` goes with Twilio only: it is a field of the Twilio variant alone (so VAPI
 *   does not rewrite the number's messaging webhook); the Telnyx variant has no such field.
 *   A number VAPI already holds (found with `GET /phone-number`) is patched instead.
 * - relink: `PATCH /phone-number/{id}` with `provider` and `assistantId`. The body is a union on
 *   `provider`; without it `{ assistantId }` matches every variant and a strict reading of the
 *   spec refuses it. If VAPI no longer has the id, the number is created again.
 * - unlink: `DELETE /phone-number/{id}`; an id VAPI no longer has counts as unlinked.
 * - listAgents: `GET /assistant?limit=1000` (the maximum; VAPI does not page this list).
 * - getAgent: `GET /assistant/{id}`; 404 is null. VAPI ids are UUIDs (the spec's path parameter is
 *   `format: uuid`), so any other id is null without asking.
 *
 * The `ref` a link returns is VAPI's phone-number id: PATCH and DELETE need it.
 */
import { CoreError } from '../core/errors.js';
import type { Agent, VoiceAgents } from '../core/ports.js';
import { joinSentences } from '../core/sentences.js';

export interface VapiAgentsOptions {
  apiKey: string;
  /** VAPI_BASE_URL, used exactly as given (plain http included); default VAPI's API. */
  baseUrl?: string;
  /** VAPI_TELNYX_CREDENTIAL_ID: the Telnyx credential added in VAPI's dashboard. */
  telnyxCredentialId?: string;
  /** The Twilio account VAPI should drive Twilio numbers with (TWILIO_* variables). */
  twilio?: { accountSid: string; authToken?: string; apiKey?: string; apiSecret?: string };
  fetch?: typeof fetch;
  /** Per request. Default 30 s: a person is usually waiting on a link. */
  timeoutMs?: number;
}

interface VapiAssistant {
  id: string;
  name?: string;
}

interface VapiPhoneNumber {
  id: string;
  number?: string;
  provider?: string;
  assistantId?: string;
}

type Provider = 'telnyx' | 'twilio';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A definite answer from VAPI other than success, kept for the caller to branch on. */
class VapiHttpError extends Error {
  constructor(
    readonly status: number,
    readonly vendorMessage: string,
    readonly retryAfterMs: number | null,
  ) {
    super(`${status} ${vendorMessage}`);
  }
}

export function createVapiAgents(options: VapiAgentsOptions): VoiceAgents {
  const baseUrl = (options.baseUrl ?? 'https://api.vapi.ai').replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const mask = (text: string) =>
    options.apiKey ? text.split(options.apiKey).join('[redacted]') : text;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await doFetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new VapiHttpError(
        response.status,
        mask(vendorMessage(text) ?? response.statusText).slice(0, 300),
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  function toCoreError(error: unknown, operation: string): CoreError {
    if (error instanceof CoreError) return error;
    if (error instanceof VapiHttpError) {
      const { status } = error;
      if (status === 429 || status >= 500) {
        return new CoreError(
          'UNAVAILABLE',
          `VAPI is unavailable (${operation}): ${error.message}`,
          {
            cause: error,
            vendorCode: String(status),
            ...(error.retryAfterMs ? { details: { retryAfterMs: error.retryAfterMs } } : {}),
          },
        );
      }
      const hint = status === 401 || status === 403 ? 'Check VAPI_API_KEY.' : '';
      return new CoreError(
        'UPSTREAM',
        joinSentences(`VAPI refused to ${operation}: ${error.vendorMessage}`, hint),
        {
          cause: error,
          vendorCode: String(status),
        },
      );
    }
    if (error instanceof SyntaxError) {
      return new CoreError('UPSTREAM', `VAPI's answer could not be read (${operation}).`, {
        cause: error,
      });
    }
    const timedOut =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return new CoreError(
      'UNAVAILABLE',
      timedOut
        ? `VAPI did not answer in time (${operation}).`
        : `VAPI could not be reached (${operation}).`,
      { cause: error },
    );
  }

  async function guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toCoreError(error, operation);
    }
  }

  function providerOf(carrier: string, e164: string): Provider {
    if (carrier === 'telnyx' || carrier === 'twilio') return carrier;
    throw new CoreError(
      'INVALID_INPUT',
      `${e164} is a ${carrier} number; only Telnyx and Twilio numbers can be linked to VAPI.`,
    );
  }

  /** What VAPI needs to take the number from its carrier, or INVALID_INPUT naming what to set. */
  function createFields(provider: Provider, e164: string): Record<string, unknown> {
    if (provider === 'telnyx') {
      if (!options.telnyxCredentialId) {
        throw new CoreError(
          'INVALID_INPUT',
          `VAPI needs a Telnyx credential to take ${e164}: set VAPI_TELNYX_CREDENTIAL_ID (VAPI dashboard, Keys).`,
        );
      }
      return { provider, credentialId: options.telnyxCredentialId };
    }
    const twilio = options.twilio;
    const secret = twilio?.authToken
      ? { twilioAuthToken: twilio.authToken }
      : twilio?.apiKey && twilio.apiSecret
        ? { twilioApiKey: twilio.apiKey, twilioApiSecret: twilio.apiSecret }
        : null;
    if (!twilio?.accountSid || !secret) {
      throw new CoreError(
        'INVALID_INPUT',
        `VAPI needs the Twilio account to take ${e164}: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY + TWILIO_API_SECRET).`,
      );
    }
    return { provider, twilioAccountSid: twilio.accountSid, ...secret, smsEnabled: false };
  }

  async function findByNumber(e164: string): Promise<VapiPhoneNumber | null> {
    const numbers = await call<VapiPhoneNumber[]>('GET', '/phone-number?limit=1000');
    return numbers.find((n) => n.number === e164) ?? null;
  }

  const patch = (id: string, provider: Provider, agentId: string) =>
    call<VapiPhoneNumber>('PATCH', `/phone-number/${encodeURIComponent(id)}`, {
      provider,
      assistantId: agentId,
    });

  const isStatus = (error: unknown, ...statuses: number[]) =>
    error instanceof VapiHttpError && statuses.includes(error.status);

  const toAgent = (assistant: VapiAssistant): Agent => ({
    platform: 'vapi',
    id: assistant.id,
    name: assistant.name || assistant.id,
    sandbox: false,
  });

  return {
    platform: 'vapi',
    sandbox: false,

    listAgents: () =>
      guarded('list assistants', async () =>
        (await call<VapiAssistant[]>('GET', '/assistant?limit=1000')).map(toAgent),
      ),

    async getAgent(id) {
      if (!UUID.test(id)) return null;
      try {
        return toAgent(await call<VapiAssistant>('GET', `/assistant/${encodeURIComponent(id)}`));
      } catch (error) {
        if (isStatus(error, 404)) return null;
        throw toCoreError(error, `get assistant ${id}`);
      }
    },

    link: (number, agentId, existingRef) =>
      guarded(`link ${number.e164}`, async () => {
        const provider = providerOf(number.carrier, number.e164);
        if (existingRef) {
          try {
            return { ref: (await patch(existingRef, provider, agentId)).id ?? existingRef };
          } catch (error) {
            // Deleted at VAPI behind our back: create it afresh below.
            if (!isStatus(error, 404)) throw error;
          }
        }
        try {
          const created = await call<VapiPhoneNumber>('POST', '/phone-number', {
            ...createFields(provider, number.e164),
            number: number.e164,
            assistantId: agentId,
          });
          return { ref: created.id };
        } catch (error) {
          if (!isStatus(error, 400, 409)) throw error;
          // VAPI refuses a number it already holds. Look rather than parse the refusal's text.
          const existing = await findByNumber(number.e164);
          if (!existing) throw error;
          await patch(existing.id, provider, agentId);
          return { ref: existing.id };
        }
      }),

    unlink: (number, ref) =>
      guarded(`unlink ${number.e164}`, async () => {
        const id = ref ?? (await findByNumber(number.e164))?.id;
        if (!id) return;
        try {
          await call('DELETE', `/phone-number/${encodeURIComponent(id)}`);
        } catch (error) {
          // Already gone at VAPI: the number is unlinked, which is what was asked.
          if (!isStatus(error, 404)) throw error;
        }
      }),
  };
}

/** VAPI answers `{ message: string | string[], error, statusCode }`. */
function vendorMessage(text: string): string | null {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (Array.isArray(body.message)) return body.message.map(String).join('; ');
    if (typeof body.message === 'string') return body.message;
    if (typeof body.error === 'string') return body.error;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.trim() ? text.trim() : null;
}
