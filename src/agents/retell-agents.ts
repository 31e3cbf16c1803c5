/**
 * Retell through its official SDK (`retell-sdk`). Retell names an imported number by the number
 * itself, so the `ref` a link returns is the E.164 number.
 *
 * - link: `POST /import-phone-number` with the configured SIP trunk (termination URI) and
 *   `inbound_agents: [{ agent_id, weight: 1 }]`. The deprecated `inbound_agent_id` is never sent.
 *   A number Retell already holds (imported by hand, or by an earlier attempt whose answer was lost)
 *   is updated instead.
 * - relink: `PATCH /update-phone-number/{number}` with `inbound_agents`; if Retell no longer has the
 *   number, it is imported again.
 * - unlink: `DELETE /delete-phone-number/{number}`; a number Retell no longer has counts as unlinked.
 * - listAgents: `POST /v2/list-agents` (what the SDK calls), falling back to `GET /list-agents` when
 *   the server does not know the v2 route (404/405). The spec revision we test against only has the
 *   GET; Retell's live API has both. The choice is remembered per adapter.
 * - getAgent: `GET /get-agent/{id}`; Retell answers an unknown id with 404 or with 422 ("Cannot find
 *   requested asset under given api key"), and both mean null.
 */
import Retell, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'retell-sdk';
import { CoreError } from '../core/errors.js';
import type { Agent, VoiceAgents } from '../core/ports.js';
import { joinSentences } from '../core/sentences.js';

export interface RetellAgentsOptions {
  apiKey: string;
  /** RETELL_BASE_URL, used exactly as given (plain http included); default Retell's API. */
  baseUrl?: string;
  /** RETELL_TERMINATION_URI: the carrier's SIP trunk, e.g. `example.pstn.twilio.com`. */
  terminationUri?: string;
  sipUsername?: string;
  sipPassword?: string;
  /** The SDK retries 408/409/429/5xx and connection failures; tests set 0. Default 2. */
  maxRetries?: number;
  /** Per attempt. Default 30 s: a person is usually waiting on a link. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type AgentResponse = {
  agent_id: string;
  agent_name?: string | null;
  version?: number;
  channel?: string;
};

/** Enough pages for any real account; a mock whose paging never ends cannot loop forever. */
const MAX_LIST_PAGES = 50;

export function createRetellAgents(options: RetellAgentsOptions): VoiceAgents {
  const client = new Retell({
    apiKey: options.apiKey,
    // Passed explicitly so the SDK never reads RETELL_BASE_URL from the environment itself.
    baseURL: options.baseUrl ?? 'https://api.retellai.com',
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 30_000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const fail = (error: unknown, operation: string) => toCoreError(error, operation, options.apiKey);
  let legacyList = false;

  const toAgent = (agent: AgentResponse): Agent => ({
    platform: 'retell',
    id: agent.agent_id,
    name: agent.agent_name || agent.agent_id,
    sandbox: false,
  });

  async function listV2(): Promise<Agent[]> {
    const agents: Agent[] = [];
    let paginationKey: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const result = await client.agent.list(
        paginationKey ? { pagination_key: paginationKey } : {},
      );
      // Chat agents cannot answer a phone call.
      agents.push(...result.items.filter((item) => item.channel !== 'chat').map(toAgent));
      if (!result.has_more || !result.pagination_key || result.pagination_key === paginationKey)
        break;
      paginationKey = result.pagination_key;
    }
    return agents;
  }

  async function listLegacy(): Promise<Agent[]> {
    // One page of up to 1000 (the documented maximum). This route lists every version of every
    // agent, so keep one entry per agent: its newest version's name.
    const versions = await client.get<AgentResponse[]>('/list-agents', {
      query: { limit: 1000 },
    });
    const newest = new Map<string, AgentResponse>();
    for (const agent of versions) {
      const seen = newest.get(agent.agent_id);
      if (!seen || (agent.version ?? 0) >= (seen.version ?? 0)) newest.set(agent.agent_id, agent);
    }
    return [...newest.values()].map(toAgent);
  }

  async function importNumber(e164: string, agentId: string): Promise<void> {
    if (!options.terminationUri) {
      throw new CoreError(
        'INVALID_INPUT',
        `Retell needs the SIP trunk to import ${e164}: set RETELL_TERMINATION_URI (e.g. example.pstn.twilio.com).`,
      );
    }
    await client.phoneNumber.import({
      phone_number: e164,
      termination_uri: options.terminationUri,
      ...(options.sipUsername ? { sip_trunk_auth_username: options.sipUsername } : {}),
      ...(options.sipPassword ? { sip_trunk_auth_password: options.sipPassword } : {}),
      inbound_agents: [{ agent_id: agentId, weight: 1 }],
    });
  }

  const updateNumber = (e164: string, agentId: string) =>
    client.phoneNumber.update(e164, { inbound_agents: [{ agent_id: agentId, weight: 1 }] });

  /** Whether Retell holds the number now; errors other than "not there" propagate. */
  async function isImported(e164: string): Promise<boolean> {
    try {
      await client.phoneNumber.retrieve(e164);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  return {
    platform: 'retell',
    sandbox: false,

    async listAgents() {
      try {
        if (!legacyList) {
          try {
            return await listV2();
          } catch (error) {
            if (!(error instanceof APIError && (error.status === 404 || error.status === 405))) {
              throw error;
            }
            legacyList = true;
          }
        }
        return await listLegacy();
      } catch (error) {
        throw fail(error, 'list agents');
      }
    },

    async getAgent(id) {
      try {
        return toAgent(await client.agent.retrieve(id));
      } catch (error) {
        if (isNotFound(error)) return null;
        throw fail(error, `get agent ${id}`);
      }
    },

    async link(number, agentId, existingRef) {
      assertRealNumber(number.carrier, number.e164);
      const e164 = existingRef ?? number.e164;
      try {
        if (existingRef) {
          try {
            await updateNumber(e164, agentId);
            return { ref: e164 };
          } catch (error) {
            // Removed at Retell behind our back: import it afresh below.
            if (!isNotFound(error)) throw error;
          }
        }
        try {
          await importNumber(e164, agentId);
        } catch (error) {
          if (!isRefusal(error)) throw error;
          // Retell refuses to import a number it already holds. Ask rather than parse the refusal's
          // text: if the number is there, point it at the agent; if not, the refusal stands.
          if (!(await isImported(e164))) throw error;
          await updateNumber(e164, agentId);
        }
        return { ref: e164 };
      } catch (error) {
        throw fail(error, `link ${number.e164}`);
      }
    },

    async unlink(number, ref) {
      try {
        await client.phoneNumber.delete(ref ?? number.e164);
      } catch (error) {
        // Already gone at Retell: the number is unlinked, which is what was asked.
        if (isNotFound(error)) return;
        throw fail(error, `unlink ${number.e164}`);
      }
    },
  };
}

function assertRealNumber(carrier: string, e164: string): void {
  if (carrier === 'sandbox') {
    throw new CoreError(
      'INVALID_INPUT',
      `${e164} is a sandbox number; only a number a real carrier holds can be linked to Retell.`,
    );
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof APIError && (error.status === 404 || error.status === 422);
}

function isRefusal(error: unknown): boolean {
  return error instanceof APIError && (error.status === 400 || error.status === 409);
}

/**
 * Every SDK failure becomes a CoreError: 429, 5xx, timeouts and network failures are UNAVAILABLE
 * (try again later); other answers are UPSTREAM refusals carrying Retell's message and status. The
 * API key is masked in case a message ever echoes it.
 */
export function toCoreError(error: unknown, operation: string, apiKey: string): CoreError {
  if (error instanceof CoreError) return error;
  const mask = (text: string) => (apiKey ? text.split(apiKey).join('[redacted]') : text);
  if (error instanceof APIConnectionTimeoutError) {
    return new CoreError('UNAVAILABLE', `Retell did not answer in time (${operation}).`, {
      cause: error,
    });
  }
  if (error instanceof APIConnectionError) {
    return new CoreError('UNAVAILABLE', `Retell could not be reached (${operation}).`, {
      cause: error,
    });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const body = error.error as { message?: unknown } | undefined;
    const said = typeof body?.message === 'string' ? body.message : error.message;
    const message = mask(said).slice(0, 300);
    if (status === 429 || status >= 500) {
      const retryAfter = Number(error.headers?.get('retry-after'));
      return new CoreError(
        'UNAVAILABLE',
        `Retell is unavailable (${operation}): ${status} ${message}`,
        {
          cause: error,
          vendorCode: String(status),
          ...(Number.isFinite(retryAfter) && retryAfter > 0
            ? { details: { retryAfterMs: retryAfter * 1000 } }
            : {}),
        },
      );
    }
    const hint = status === 401 || status === 403 ? 'Check RETELL_API_KEY.' : '';
    return new CoreError(
      'UPSTREAM',
      joinSentences(`Retell refused to ${operation}: ${message}`, hint),
      {
        cause: error,
        vendorCode: String(status),
      },
    );
  }
  // Anything else came from reading Retell's answer (e.g. a body that is not JSON).
  return new CoreError('UPSTREAM', `Retell's answer could not be read (${operation}).`, {
    cause: error,
  });
}
