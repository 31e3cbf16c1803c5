/* eslint-disable @typescript-eslint/no-explicit-any -- Slack payloads are loosely typed JSON in assertions */
/** Signed requests to the real Bolt receiver inside a real `serve`; Slack's Web API is a local fake. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBlocks } from '../../src/slack/views/limits.js';
import { eventually, postSigned, slashBody, sign, textOf } from './fake-slack.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const responseFor = (id: string) => () => h.fake.responses.find((r) => r.id === id);

describe('Slack request verification (Bolt HTTPReceiver in serve)', () => {
  it('checks the bot token with auth.test at start, through SLACK_API_URL', () => {
    const authTest = h.fake.callsTo('auth.test');
    expect(authTest).toHaveLength(1);
    expect(authTest[0]?.authorization).toBe('Bearer xoxb-test-not-a-real-token');
  });

  it('answers 401 to a bad signature and runs nothing', async () => {
    const body = slashBody(h.fake, 'U01ALICE', 'help', 'bad-signature');
    const res = await postSigned(h.server.url, body, { secret: 'some-other-secret' });
    expect(res.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.fake.responses.find((r) => r.id === 'bad-signature')).toBeUndefined();
  });

  it('answers 401 to a stale timestamp even when the signature matches it', async () => {
    const body = slashBody(h.fake, 'U01ALICE', 'help', 'stale');
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    const res = await postSigned(h.server.url, body, { timestamp: old });
    expect(res.status).toBe(401);
    expect(sign(body, old)).toMatch(/^v0=[0-9a-f]{64}$/);
  });

  it('answers 401 when the signature header is missing its version', async () => {
    const body = slashBody(h.fake, 'U01ALICE', 'help', 'noversion');
    const res = await postSigned(h.server.url, body, { signature: 'deadbeef' });
    expect(res.status).toBe(401);
  });

  it('refuses a body over 1 MB with 413', async () => {
    const body = `text=${'x'.repeat(1024 * 1024 + 10)}`;
    const res = await postSigned(h.server.url, body);
    expect(res.status).toBe(413);
  });

  it('acks a signed /number help with 200 and answers through response_url', async () => {
    const res = await postSigned(h.server.url, slashBody(h.fake, 'U01ALICE', 'help', 'help-1'));
    expect(res.status).toBe(200);
    const reply = await eventually(responseFor('help-1'), 'help reply');
    expect(reply.body.response_type).toBe('ephemeral');
    const text = textOf(reply.body.blocks);
    for (const verb of [
      'search',
      'buy',
      'claim',
      'unclaim',
      'release',
      'link',
      'unlink',
      'list',
      'requests',
      'sync',
    ])
      expect(text).toContain(`/number ${verb}`);
    expect(checkBlocks(reply.body.blocks as unknown[], 'message')).toEqual([]);
  });

  it('answers an empty /number with help too', async () => {
    await postSigned(h.server.url, slashBody(h.fake, 'U01ALICE', '', 'empty'));
    const reply = await eventually(responseFor('empty'), 'help reply');
    expect(textOf(reply.body.blocks)).toContain('/number search');
  });

  it('answers unknown input with a private help that names the problem, and audits the refusal', async () => {
    await postSigned(h.server.url, slashBody(h.fake, 'U01ALICE', 'frobnicate 415', 'unknown'));
    const reply = await eventually(responseFor('unknown'), 'help reply');
    expect(reply.body.response_type).toBe('ephemeral');
    expect(textOf(reply.body.blocks)).toContain('"frobnicate" is not something I know');
    expect(textOf(reply.body.blocks)).toContain('/number search');
    const audit = await h.deps.store.listAudit({ actor: 'U01ALICE', limit: 10 });
    expect(
      audit.some(
        (e) => e.command === 'frobnicate' && e.outcome === 'refused' && e.surface === 'slack',
      ),
    ).toBe(true);
  });

  it('answers malformed input with the parse error and the usage', async () => {
    await postSigned(h.server.url, slashBody(h.fake, 'U01ALICE', 'search 41', 'malformed'));
    const reply = await eventually(responseFor('malformed'), 'reply');
    expect(textOf(reply.body.blocks)).toContain('"41" is not an area code');
    await postSigned(
      h.server.url,
      slashBody(h.fake, 'U01ALICE', 'buy 415 --colour red', 'badflag'),
    );
    const flag = await eventually(responseFor('badflag'), 'reply');
    expect(textOf(flag.body.blocks)).toContain('buy has no option --colour');
  });

  it('shows search results with a Request button per number, the price in its confirm, marked sandbox', async () => {
    await postSigned(h.server.url, slashBody(h.fake, 'U01ALICE', 'search 415', 'search'));
    const reply = await eventually(responseFor('search'), 'search reply');
    const blocks = reply.body.blocks as Array<Record<string, any>>;
    expect(checkBlocks(blocks, 'message')).toEqual([]);
    const text = textOf(blocks);
    expect(text).toContain('area code 415');
    expect(text).toContain('Sandbox carrier');
    const buttons = blocks.filter((b) => b.accessory?.action_id?.startsWith('sb_request_quote'));
    expect(buttons.length).toBeGreaterThan(0);
    const first = buttons[0]!.accessory;
    expect(first.value).toMatch(/^Q-/);
    expect(first.confirm.text.text).toMatch(/\$\d+\.\d\d\/month \+ \$\d+\.\d\d upfront/);
    expect(text).toMatch(/San Francisco/);
  });

  it('serves /healthz with the store, carriers, agents and Slack mode', async () => {
    const res = await fetch(`${h.server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      store: 'test (pglite)',
      carriers: [{ name: 'sandbox', sandbox: true }],
      slack: 'http',
    });
  });
});
