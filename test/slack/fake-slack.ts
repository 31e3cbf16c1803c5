/**
 * A local fake of Slack's Web API (`SLACK_API_URL`) and of `response_url`: records every call,
 * answers like Slack. Nothing leaves the machine.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { listenLocal, readBody } from '../helpers/local-http.js';

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
}

export interface FakeSlack {
  url: string;
  apiUrl: string;
  calls: ApiCall[];
  responses: ResponseUrlPost[];
  /** Makes a response_url pointing at the fake. */
  responseUrl(id: string): string;
  callsTo(method: string): ApiCall[];
  /** What apps.connections.open answers (Socket Mode). */
  socketUrl: string | null;
  /** Web API methods that answer { ok: false, error: 'channel_not_found' } while listed. */
  failing: Set<string>;
  /**
   * response_url posts Slack refused (404 `used_url` after five answers, as Slack does, or
   * `expired_url` once `expireResponseUrl` says so); they are not in `responses`.
   */
  refusedResponses: ResponseUrlPost[];
  /** After `uses` more answers, the response_url `id` answers 404 expired_url (its 30 minutes are up). */
  expireResponseUrl(id: string, uses: number): void;
  close(): Promise<void>;
}

/** Parses the Web API client's form body: nested values (blocks, view) arrive as JSON text. */
function parseArgs(text: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json'))
    return JSON.parse(text || '{}') as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    try {
      args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
    } catch {
      args[key] = value;
    }
  }
  return args;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: ApiCall[] = [];
  const responses: ResponseUrlPost[] = [];
  const refusedResponses: ResponseUrlPost[] = [];
  const expiresAfter = new Map<string, number>();
  let ts = 1_700_000_000;
  const fake = { socketUrl: null as string | null, failing: new Set<string>() };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const send = (value: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (path.startsWith('/response/')) {
        const post = {
          id: path.slice('/response/'.length),
          body: JSON.parse(body) as Record<string, unknown>,
        };
        const used = responses.filter((r) => r.id === post.id).length;
        const limit = expiresAfter.get(post.id) ?? 5;
        if (used >= limit) {
          refusedResponses.push(post);
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end(limit < 5 ? 'expired_url' : 'used_url');
          return;
        }
        responses.push(post);
        return send({ ok: true });
      }
      const method = path.replace(/^\/api\//, '');
      const args = parseArgs(body, req.headers['content-type']);
      calls.push({ method, args, authorization: req.headers.authorization });
      if (fake.failing.has(method)) return send({ ok: false, error: 'channel_not_found' });
      switch (method) {
        case 'auth.test':
          return send({
            ok: true,
            user_id: 'UBOT',
            bot_id: 'BBOT',
            team_id: 'T0TEST',
            user: 'switchboard',
          });
        case 'chat.postMessage':
          return send({ ok: true, channel: args.channel, ts: `${ts++}.000100`, message: {} });
        case 'chat.update':
          return send({ ok: true, channel: args.channel, ts: args.ts });
        case 'conversations.open':
          return send({ ok: true, channel: { id: `D${String(args.users)}` } });
        case 'views.open':
        case 'views.publish':
          return send({ ok: true, view: { id: 'V1' } });
        case 'apps.connections.open':
          return send(
            fake.socketUrl
              ? { ok: true, url: fake.socketUrl }
              : { ok: false, error: 'invalid_auth' },
          );
        default:
          return send({ ok: false, error: 'unknown_method' });
      }
    })();
  });
  const local = await listenLocal(server);
  return Object.assign(fake, {
    url: local.url,
    apiUrl: `${local.url}/api/`,
    calls,
    responses,
    refusedResponses,
    expireResponseUrl: (id: string, uses: number) => {
      expiresAfter.set(id, responses.filter((r) => r.id === id).length + uses);
    },
    responseUrl: (id: string) => `${local.url}/response/${id}`,
    callsTo: (method: string) => calls.filter((call) => call.method === method),
    close: local.close,
  });
}

export const SIGNING_SECRET = 'test-signing-secret-not-real';
export const BOT_TOKEN = 'xoxb-test-not-a-real-token';
export const APP_TOKEN = 'xapp-test-not-a-real-token';

/** Slack's v0 request signature over `v0:{timestamp}:{body}`. */
export function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export async function postSigned(
  baseUrl: string,
  body: string,
  options: { timestamp?: number; secret?: string; contentType?: string; signature?: string } = {},
): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? sign(body, timestamp, options.secret),
    },
    body,
  });
}

/** A `/number …` slash command as Slack posts it. */
export function slashBody(
  fake: FakeSlack,
  user: string,
  text: string,
  id = `${user}-${Date.now()}-${Math.random()}`,
): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0TEST',
    team_domain: 'test',
    channel_id: 'C0GENERAL',
    channel_name: 'general',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/number',
    text,
    api_app_id: 'A0TEST',
    response_url: fake.responseUrl(id),
    trigger_id: `trigger-${id}`,
  }).toString();
}

/** A button click (block_actions) as Slack posts it. */
export function actionBody(
  fake: FakeSlack,
  user: string,
  action: { action_id: string; value: string },
  options: {
    id?: string;
    container?: Record<string, unknown>;
    view?: Record<string, unknown>;
  } = {},
): string {
  const id = options.id ?? `${user}-${Date.now()}-${Math.random()}`;
  const payload = {
    type: 'block_actions',
    team: { id: 'T0TEST', domain: 'test' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0TEST' },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    trigger_id: `trigger-${id}`,
    container: options.container ?? {
      type: 'message',
      message_ts: '1.0',
      channel_id: 'C0APPROVALS',
      is_ephemeral: false,
    },
    channel: { id: 'C0APPROVALS', name: 'approvals' },
    ...(options.view ? { view: options.view } : { response_url: fake.responseUrl(id) }),
    actions: [{ type: 'button', block_id: 'b', action_ts: '1.1', ...action }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A modal submission (view_submission) as Slack posts it. */
export function viewSubmissionBody(
  user: string,
  callbackId: string,
  privateMetadata: string,
  reason: string,
): string {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0TEST', domain: 'test' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'T0TEST' },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    trigger_id: 'trigger-view',
    view: {
      id: 'V1',
      type: 'modal',
      callback_id: callbackId,
      private_metadata: privateMetadata,
      state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } },
    },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Waits until `check` returns a value (the work after an ack is asynchronous). */
export async function eventually<T>(
  check: () => T | undefined | null | false,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every text in a Block Kit message, flattened, for assertions. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(textOf).join('\n');
  return '';
}
