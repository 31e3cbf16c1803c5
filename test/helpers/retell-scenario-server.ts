/**
 * A small stateful stand-in for Retell's API, for what a canned Prism mock cannot show: a number
 * that stays imported, an agent that does not exist, a number imported before we got to it, a
 * platform that fails halfway. It answers like Retell: `{ status: 'error', message }` bodies,
 * 422 for an unknown asset, and it refuses the deprecated `inbound_agent_id` fields outright so a
 * regression cannot slip through.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultQueue, listenLocal, readJsonRequest } from './local-http.js';

export interface RetellScenarioAgent {
  agent_id: string;
  agent_name: string;
  version?: number;
  channel?: 'voice' | 'chat';
}

export interface RetellScenarioNumber {
  phone_number: string;
  termination_uri: string;
  inbound_agents: Array<{ agent_id: string; weight: number }>;
  sip_trunk_auth_username?: string;
}

export interface RetellFault {
  status: number;
  /** Apply the request first, then answer with the fault (an answer lost after the work was done). */
  afterCommit?: boolean;
  retryAfter?: number;
}

export interface RetellScenarioOptions {
  apiKey?: string;
  agents?: RetellScenarioAgent[];
  /** Numbers already imported before the test starts. */
  numbers?: RetellScenarioNumber[];
  /** Answer POST /v2/list-agents with 404, like the spec revision we hold. */
  legacyListOnly?: boolean;
  /** How an unknown agent or number is answered; Retell's spec says 422, some routes 404. */
  notFoundStatus?: 404 | 422;
}

export interface RetellScenarioServer {
  url: string;
  numbers: Map<string, RetellScenarioNumber>;
  requests: Array<{ method: string; path: string; body: unknown }>;
  /** The next request to `METHOD /path-prefix` fails as described. */
  failNext(route: string, fault: RetellFault): void;
  close(): Promise<void>;
}

export const RETELL_TEST_KEY = 'KEY_TEST_FAKE_RETELL';

export const DEFAULT_RETELL_AGENTS: RetellScenarioAgent[] = [
  { agent_id: 'agent_support_0001', agent_name: 'Support line', version: 0 },
  { agent_id: 'agent_support_0001', agent_name: 'Support line v2', version: 1 },
  { agent_id: 'agent_sales_0002', agent_name: 'Sales desk', version: 0 },
  { agent_id: 'agent_chat_0003', agent_name: 'Website chat', version: 0, channel: 'chat' },
];

const DEPRECATED_FIELDS = [
  'inbound_agent_id',
  'outbound_agent_id',
  'inbound_agent_version',
  'outbound_agent_version',
];

export async function startRetellScenarioServer(
  options: RetellScenarioOptions = {},
): Promise<RetellScenarioServer> {
  const apiKey = options.apiKey ?? RETELL_TEST_KEY;
  const agents = options.agents ?? DEFAULT_RETELL_AGENTS;
  const notFound = options.notFoundStatus ?? 422;
  const numbers = new Map((options.numbers ?? []).map((n) => [n.phone_number, structuredClone(n)]));
  const requests: RetellScenarioServer['requests'] = [];
  const faults = faultQueue<RetellFault>();

  const hasAgent = (id: string) => agents.some((a) => a.agent_id === id);
  const newest = () => {
    const byId = new Map<string, RetellScenarioAgent>();
    for (const a of agents) {
      const seen = byId.get(a.agent_id);
      if (!seen || (a.version ?? 0) >= (seen.version ?? 0)) byId.set(a.agent_id, a);
    }
    return [...byId.values()];
  };
  const numberView = (n: RetellScenarioNumber) => ({
    phone_number: n.phone_number,
    phone_number_type: 'custom',
    last_modification_timestamp: Date.now(),
    inbound_agents: n.inbound_agents,
    sip_outbound_trunk_config: { termination_uri: n.termination_uri },
  });

  /** Checks an `inbound_agents` list the way Retell does; returns a refusal or null. */
  const checkInbound = (value: unknown): string | null => {
    if (!Array.isArray(value) || value.length === 0)
      return 'inbound_agents must be a non-empty array';
    let total = 0;
    for (const entry of value as Array<{ agent_id?: unknown; weight?: unknown }>) {
      if (typeof entry.agent_id !== 'string' || typeof entry.weight !== 'number') {
        return 'inbound_agents entries need agent_id and weight';
      }
      if (!hasAgent(entry.agent_id)) return `Agent ${entry.agent_id} not found`;
      total += entry.weight;
    }
    return Math.abs(total - 1) < 1e-9 ? null : 'inbound_agents weights must add up to 1';
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { method, path, body } = await readJsonRequest(req);
    requests.push({ method, path, body });
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    const error = (status: number, message: string) => send(status, { status: 'error', message });

    if (req.headers.authorization !== `Bearer ${apiKey}`)
      return error(401, 'API key is missing or invalid.');

    const fault = faults.take(method, path);
    const answer = (status: number, payload?: unknown) => {
      if (!fault) return send(status, payload);
      const headers: Record<string, string> = fault.retryAfter
        ? { 'retry-after': String(fault.retryAfter) }
        : {};
      send(fault.status, { status: 'error', message: `Injected failure ${fault.status}` }, headers);
    };
    if (fault && !fault.afterCommit) return answer(0);

    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [head, param] = segments;

    if (method === 'POST' && path === '/v2/list-agents') {
      if (options.legacyListOnly) return error(404, 'Cannot POST /v2/list-agents');
      return answer(200, {
        has_more: false,
        items: newest().map((a) => ({
          agent_id: a.agent_id,
          agent_name: a.agent_name,
          channel: a.channel ?? 'voice',
          tags: {},
          user_modified_timestamp: Date.now(),
        })),
      });
    }
    if (method === 'GET' && path === '/list-agents')
      return answer(
        200,
        agents.map((a) => ({ ...a })),
      );
    if (method === 'GET' && head === 'get-agent' && param) {
      const agent = newest().find((a) => a.agent_id === param);
      return agent
        ? answer(200, agent)
        : error(notFound, 'Cannot find requested asset under given api key.');
    }
    if (method === 'POST' && path === '/import-phone-number') {
      const deprecated = DEPRECATED_FIELDS.filter((field) => field in body);
      if (deprecated.length) return error(400, `Deprecated fields sent: ${deprecated.join(', ')}`);
      const phone = body.phone_number;
      if (typeof phone !== 'string' || !/^\+[1-9]\d{6,14}$/.test(phone))
        return error(400, 'phone_number must be E.164');
      if (typeof body.termination_uri !== 'string' || !body.termination_uri)
        return error(400, 'termination_uri is required');
      const refusal = checkInbound(body.inbound_agents);
      if (refusal) return error(400, refusal);
      if (numbers.has(phone)) return error(400, 'Phone number already exists');
      numbers.set(phone, {
        phone_number: phone,
        termination_uri: body.termination_uri,
        inbound_agents: body.inbound_agents as RetellScenarioNumber['inbound_agents'],
        ...(typeof body.sip_trunk_auth_username === 'string'
          ? { sip_trunk_auth_username: body.sip_trunk_auth_username }
          : {}),
      });
      return answer(201, numberView(numbers.get(phone)!));
    }
    if (head === 'get-phone-number' && method === 'GET' && param) {
      const n = numbers.get(param);
      return n
        ? answer(200, numberView(n))
        : error(notFound, 'Cannot find requested asset under given api key.');
    }
    if (head === 'update-phone-number' && method === 'PATCH' && param) {
      const deprecated = DEPRECATED_FIELDS.filter((field) => field in body);
      if (deprecated.length) return error(400, `Deprecated fields sent: ${deprecated.join(', ')}`);
      const n = numbers.get(param);
      if (!n) return error(notFound, 'Cannot find requested asset under given api key.');
      const refusal = checkInbound(body.inbound_agents);
      if (refusal) return error(400, refusal);
      n.inbound_agents = body.inbound_agents as RetellScenarioNumber['inbound_agents'];
      return answer(200, numberView(n));
    }
    if (head === 'delete-phone-number' && method === 'DELETE' && param) {
      if (!numbers.delete(param))
        return error(notFound, 'Cannot find requested asset under given api key.');
      return answer(204);
    }
    return error(404, `Cannot ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'error', message: String(err) }));
    });
  });
  const http = await listenLocal(server);
  return {
    url: http.url,
    numbers,
    requests,
    failNext: faults.add,
    close: http.close,
  };
}
