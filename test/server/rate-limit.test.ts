/**
 * Abuse (issue 8) through a real `serve` (in process): per-identity rate limits on Slack commands,
 * buttons and modals (identity: the Slack user id) and on MCP over HTTP (identity: the member a token acts for), and
 * request bodies over the limit refused on /slack/events and /mcp.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT, loadConfig, rateLimitOf } from '../../src/config/config.js';
import { generateToken, hashToken } from '../../src/mcp/tokens.js';
import { ACTIONS, VIEWS } from '../../src/slack/registry.js';
import {
  actionBody,
  eventually,
  postSigned,
  slashBody,
  textOf,
  viewSubmissionBody,
} from '../slack/fake-slack.js';
import { startHarness } from '../slack/harness.js';
import type { Harness } from '../slack/harness.js';

const BURST = 3;
const SLOW_DOWN = /Slow down: too many requests from you\. Try again in (\d+) seconds?\./;

/** The wait a "slow down" answer names, in seconds (the limit refills one call a minute here). */
function secondsIn(text: string): number {
  const match = SLOW_DOWN.exec(text);
  expect(match, text).not.toBeNull();
  return Number(match![1]);
}

describe('rate-limit settings', () => {
  it('default to 60 a minute with a burst of 30, can be tuned, and 0 turns them off', () => {
    expect(rateLimitOf(loadConfig({}).env)).toEqual({ perMinute: 60, burst: 30 });
    expect(DEFAULT_RATE_LIMIT).toEqual({ perMinute: 60, burst: 30 });
    expect(
      rateLimitOf(
        loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '120', SWITCHBOARD_RATE_LIMIT_BURST: '5' })
          .env,
      ),
    ).toEqual({ perMinute: 120, burst: 5 });
    expect(rateLimitOf(loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '0' }).env)).toBeNull();
  });

  it('refuses a value that is not a number, naming the variable', () => {
    expect(() => loadConfig({ SWITCHBOARD_RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(
      /SWITCHBOARD_RATE_LIMIT_PER_MINUTE: must be a number of requests a minute/,
    );
  });
});

describe('rate limits and body sizes through serve', () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await startHarness({
      env: {
        SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '1',
        SWITCHBOARD_RATE_LIMIT_BURST: String(BURST),
      },
    });
    base = h.server.url;
  });
  afterAll(async () => {
    await h?.close();
  });

  const auditCount = async (actor: string) =>
    (await h.deps.store.listAudit({ actor, limit: 100 })).length;

  /** Sends `/number list` as `user` and waits for its private answer. */
  async function listAs(user: string, id: string): Promise<void> {
    const res = await postSigned(base, slashBody(h.fake, user, 'list', id));
    expect(res.status).toBe(200);
    await eventually(() => h.fake.responses.find((r) => r.id === id), `the answer to ${id}`);
  }

  async function useUpBurst(user: string): Promise<void> {
    for (let i = 0; i < BURST; i++) await listAs(user, `${user}-burst-${i}`);
    expect(await auditCount(user)).toBe(BURST);
  }

  describe('Slack (per user id)', () => {
    it('a command over the limit gets an immediate private "slow down, try again in N s" and runs nothing', async () => {
      await useUpBurst('U01ALICE');
      const res = await postSigned(base, slashBody(h.fake, 'U01ALICE', 'list', 'alice-over'));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { response_type: string; text: string };
      expect(answer.response_type).toBe('ephemeral');
      const seconds = secondsIn(answer.text);
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(60);
      // Answered in the ack: no command ran, nothing was audited, no response_url was used.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await auditCount('U01ALICE')).toBe(BURST);
      expect(h.fake.responses.some((r) => r.id === 'alice-over')).toBe(false);
    });

    it('limits each member separately', async () => {
      await listAs('U01CAROL', 'carol-1');
      expect(await auditCount('U01CAROL')).toBe(1);
    });

    it('a button over the limit is acked and answered privately, and does nothing', async () => {
      await useUpBurst('U01DAVE');
      const res = await postSigned(
        base,
        actionBody(
          h.fake,
          'U01DAVE',
          { action_id: ACTIONS.release, value: JSON.stringify({ number: '+14155550142' }) },
          { id: 'dave-release' },
        ),
      );
      expect(res.status).toBe(200);
      const reply = await eventually(
        () => h.fake.responses.find((r) => r.id === 'dave-release'),
        'the slow-down answer',
      );
      expect(reply.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      secondsIn(textOf(reply.body.text));
      expect(await auditCount('U01DAVE')).toBe(BURST);
    });

    it('a modal submission over the limit shows the wait in the form and decides nothing', async () => {
      await useUpBurst('U01ERIN');
      const res = await postSigned(
        base,
        viewSubmissionBody('U01ERIN', VIEWS.denyModal, 'R-NOTAREAL1', 'too expensive'),
      );
      expect(res.status).toBe(200);
      const answer = (await res.json()) as {
        response_action: string;
        errors: Record<string, string>;
      };
      expect(answer.response_action).toBe('errors');
      secondsIn(answer.errors.reason ?? '');
      expect(await auditCount('U01ERIN')).toBe(BURST);
    });
  });

  describe('MCP over HTTP (per member a token acts for)', () => {
    async function makeToken(name: string, owner = 'U01RATE'): Promise<string> {
      const token = generateToken();
      const outcome = await h.deps.store.createApiToken({
        name,
        role: 'requester',
        tokenHash: hashToken(token),
        createdBy: 'local',
        owner,
        now: new Date(),
      });
      expect(outcome.status).toBe('created');
      return token;
    }

    const post = (token: string, body: unknown, session?: string) =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(session ? { 'mcp-session-id': session } : {}),
        },
        body: JSON.stringify(body),
      });

    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'rate-limit-test', version: '1.0.0' },
      },
    };

    it('answers a call over the limit with 429, Retry-After and a JSON-RPC error that says how long to wait', async () => {
      const token = await makeToken('busy-bot');
      const opened = await post(token, initialize);
      expect(opened.status).toBe(200);
      const session = opened.headers.get('mcp-session-id') as string;
      await opened.text();
      const list = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
      for (let i = 1; i < BURST; i++) {
        const ok = await post(token, { ...list, id: 2 + i }, session);
        expect(ok.status).toBe(200);
        await ok.text();
      }
      const refused = await post(token, { ...list, id: 99 }, session);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = (await refused.json()) as { jsonrpc: string; error: { message: string } };
      expect(body.jsonrpc).toBe('2.0');
      expect(secondsIn(body.error.message)).toBe(retryAfter);
    });

    it('limits each member separately, all their tokens together, and an SDK client over the limit sees the message', async () => {
      const token = await makeToken('patient-bot', 'U01PATIENT');
      for (let i = 0; i < BURST; i++) {
        const res = await post(token, initialize);
        expect(res.status).toBe(200);
        await res.text();
      }
      const client = new Client({ name: 'rate-limit-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      });
      const error = await client.connect(transport).then(
        () => null,
        (e: unknown) => e as Error,
      );
      await client.close().catch(() => undefined);
      expect(error?.message).toMatch(SLOW_DOWN);
      expect((error as Error & { code?: number }).code).toBe(429);

      // A second token of the same member shares the limit: it is not a second allowance.
      const second = await makeToken('patient-bot-2', 'U01PATIENT');
      const refused = await post(second, initialize);
      expect(refused.status).toBe(429);
      await refused.text();

      // Another member's token is not held back by this one.
      const other = await makeToken('other-bot', 'U01OTHER');
      const res = await post(other, initialize);
      expect(res.status).toBe(200);
      await res.text();
    });

    it('does not count requests without a valid token: they get 401 first', async () => {
      for (let i = 0; i < BURST + 2; i++) {
        const res = await post('sbt_not-a-real-token', initialize);
        expect(res.status).toBe(401);
        await res.text();
      }
    });
  });

  describe('request bodies', () => {
    const MB = 1024 * 1024;

    /** A body sent in chunks with no Content-Length, so only the reader can count it. */
    function chunked(size: number): ReadableStream<Uint8Array> {
      let left = size;
      return new ReadableStream({
        pull(controller) {
          const n = Math.min(left, 64 * 1024);
          if (n === 0) return controller.close();
          controller.enqueue(new Uint8Array(n).fill(0x61));
          left -= n;
        },
      });
    }

    it('refuses a signed Slack request over 1 MB with 413, before Bolt reads it', async () => {
      const res = await postSigned(base, `text=${'a'.repeat(MB)}`);
      expect(res.status).toBe(413);
      expect(await res.text()).toContain('over 1048576 bytes');
    });

    it('refuses an MCP request over 1 MB with 413, even with a valid token', async () => {
      const token = generateToken();
      await h.deps.store.createApiToken({
        name: 'big-bodies',
        role: 'reader',
        tokenHash: hashToken(token),
        createdBy: 'local',
        now: new Date(),
      });
      const res = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', pad: 'x'.repeat(MB) }),
      });
      expect(res.status).toBe(413);
    });

    it('refuses a chunked Slack body over 1 MB (no Content-Length) with 413', async () => {
      const res = await fetch(`${base}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
          'x-slack-signature': 'v0=0',
        },
        body: chunked(2 * MB),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
    });

    it('refuses a chunked MCP body over 4 MiB (no Content-Length), and keeps serving', async () => {
      const token = generateToken();
      await h.deps.store.createApiToken({
        name: 'chunked-bodies',
        role: 'reader',
        tokenHash: hashToken(token),
        createdBy: 'local',
        now: new Date(),
      });
      const res = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: chunked(5 * MB),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('over 4 MiB');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    });

    it('lets a normal-sized request through to the signature check', async () => {
      const res = await fetch(`${base}/slack/events`, { method: 'POST', body: 'a=1' });
      expect(res.status).toBe(401);
    });
  });
});
