/**
 * A small stateful stand-in for VAPI's API: assistants, and phone numbers that stay created, so
 * link → relink → unlink can be followed end to end. It answers like VAPI (NestJS:
 * `{ message, error, statusCode }`), checks the provider union the way the spec states it
 * (whitelisted fields per provider, so `smsEnabled` on a Telnyx number is refused), refuses a
 * number it already holds, and can fail the next request to a route on demand.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultQueue, listenLocal, readJsonRequest } from './local-http.js';

export interface VapiScenarioAssistant {
  id: string;
  name?: string;
}

export interface VapiScenarioNumber {
  id: string;
  provider: 'telnyx' | 'twilio';
  number: string;
  assistantId?: string;
  credentialId?: string;
  twilioAccountSid?: string;
  smsEnabled?: boolean;
}

export interface VapiFault {
  status: number;
  /** Apply the request first, then answer with the fault (an answer lost after the work was done). */
  afterCommit?: boolean;
}

export interface VapiScenarioOptions {
  apiKey?: string;
  assistants?: VapiScenarioAssistant[];
  numbers?: VapiScenarioNumber[];
}

export interface VapiScenarioServer {
  url: string;
  numbers: Map<string, VapiScenarioNumber>;
  requests: Array<{ method: string; path: string; body: unknown }>;
  failNext(route: string, fault: VapiFault): void;
  close(): Promise<void>;
}

export const VAPI_TEST_KEY = 'KEY_TEST_FAKE_VAPI';

export const DEFAULT_VAPI_ASSISTANTS: VapiScenarioAssistant[] = [
  { id: '7d2a1b3c-0000-4000-8000-000000000001', name: 'Front desk' },
  { id: '7d2a1b3c-0000-4000-8000-000000000002', name: 'Survey' },
];

const CREATE_FIELDS: Record<'telnyx' | 'twilio', { required: string[]; allowed: string[] }> = {
  telnyx: { required: ['provider', 'number', 'credentialId'], allowed: ['name', 'assistantId'] },
  twilio: {
    required: ['provider', 'number', 'twilioAccountSid'],
    allowed: [
      'name',
      'assistantId',
      'smsEnabled',
      'twilioAuthToken',
      'twilioApiKey',
      'twilioApiSecret',
    ],
  },
};
const UPDATE_FIELDS = ['provider', 'assistantId', 'name'];

export async function startVapiScenarioServer(
  options: VapiScenarioOptions = {},
): Promise<VapiScenarioServer> {
  const apiKey = options.apiKey ?? VAPI_TEST_KEY;
  const assistants = options.assistants ?? DEFAULT_VAPI_ASSISTANTS;
  const numbers = new Map((options.numbers ?? []).map((n) => [n.id, structuredClone(n)]));
  const requests: VapiScenarioServer['requests'] = [];
  const faults = faultQueue<VapiFault>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { url, method, path, body } = await readJsonRequest(req);
    requests.push({ method, path, body });
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const error = (statusCode: number, message: string | string[]) =>
      send(statusCode, {
        message,
        error: statusCode === 404 ? 'Not Found' : 'Bad Request',
        statusCode,
      });

    if (req.headers.authorization !== `Bearer ${apiKey}`) return error(401, 'Unauthorized');

    const fault = faults.take(method, path);
    const answer = (status: number, payload: unknown) =>
      fault ? error(fault.status, `Injected failure ${fault.status}`) : send(status, payload);
    if (fault && !fault.afterCommit) return answer(0, null);

    const [head, id] = path.split('/').filter(Boolean).map(decodeURIComponent);
    const limit = Number(url.searchParams.get('limit') ?? 100);

    if (head === 'assistant' && method === 'GET') {
      if (!id) return answer(200, assistants.slice(0, limit));
      const assistant = assistants.find((a) => a.id === id);
      return assistant ? answer(200, assistant) : error(404, 'Assistant not found');
    }
    if (head === 'phone-number' && method === 'GET' && !id)
      return answer(200, [...numbers.values()].slice(0, limit));
    if (head === 'phone-number' && method === 'POST' && !id) {
      const provider = body.provider;
      if (provider !== 'telnyx' && provider !== 'twilio')
        return error(400, ['provider must be one of telnyx, twilio']);
      const { required, allowed } = CREATE_FIELDS[provider];
      const problems = [
        ...required
          .filter((field) => typeof body[field] !== 'string' || !body[field])
          .map((f) => `${f} should not be empty`),
        ...Object.keys(body)
          .filter((field) => !required.includes(field) && !allowed.includes(field))
          .map((f) => `property ${f} should not exist`),
      ];
      if (
        provider === 'twilio' &&
        !body.twilioAuthToken &&
        !(body.twilioApiKey && body.twilioApiSecret)
      ) {
        problems.push('twilioAuthToken or twilioApiKey and twilioApiSecret are required');
      }
      if (problems.length) return error(400, problems);
      if (body.assistantId !== undefined && !assistants.some((a) => a.id === body.assistantId)) {
        return error(400, "Couldn't Find Assistant");
      }
      if ([...numbers.values()].some((n) => n.number === body.number)) {
        return error(400, `Number ${String(body.number)} already exists`);
      }
      const created: VapiScenarioNumber = {
        id: randomUUID(),
        provider,
        number: body.number as string,
        ...(typeof body.assistantId === 'string' ? { assistantId: body.assistantId } : {}),
        ...(typeof body.credentialId === 'string' ? { credentialId: body.credentialId } : {}),
        ...(typeof body.twilioAccountSid === 'string'
          ? { twilioAccountSid: body.twilioAccountSid }
          : {}),
        ...(typeof body.smsEnabled === 'boolean' ? { smsEnabled: body.smsEnabled } : {}),
      };
      numbers.set(created.id, created);
      return answer(201, created);
    }
    if (head === 'phone-number' && id && (method === 'PATCH' || method === 'DELETE')) {
      const existing = numbers.get(id);
      if (!existing) return error(404, 'Phone number not found');
      if (method === 'DELETE') {
        numbers.delete(id);
        return answer(200, existing);
      }
      const extra = Object.keys(body).filter((field) => !UPDATE_FIELDS.includes(field));
      if (extra.length)
        return error(
          400,
          extra.map((f) => `property ${f} should not exist`),
        );
      if (body.provider !== undefined && body.provider !== existing.provider)
        return error(400, 'provider cannot change');
      if (typeof body.assistantId === 'string') {
        if (!assistants.some((a) => a.id === body.assistantId))
          return error(400, "Couldn't Find Assistant");
        existing.assistantId = body.assistantId;
      }
      return answer(200, existing);
    }
    return error(404, `Cannot ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: String(err), statusCode: 500 }));
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
