/* eslint-disable @typescript-eslint/no-explicit-any -- Slack payloads are loosely typed JSON in assertions */
/**
 * The rest of the grammar through signed requests: claim, unclaim, release with a confirm, list,
 * sync, App Home.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkView } from '../../src/slack/views/limits.js';
import { actionBody, eventually, postSigned, slashBody, textOf } from './fake-slack.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: { admins: ['U01ADMIN'] } });
});
afterAll(async () => {
  await h?.close();
});

const say = async (user: string, text: string, id: string) => {
  await postSigned(h.server.url, slashBody(h.fake, user, text, id));
  return eventually(() => h.fake.responses.find((r) => r.id === id), `reply to ${text}`);
};

describe('/number grammar', () => {
  it('sync (admins) shows progress in one message and finishes with the counts', async () => {
    const reply = await say('U01ADMIN', 'sync', 'sync');
    expect(textOf(reply.body.blocks)).toContain('Syncing');
    const final = await eventually(
      () =>
        h.fake.responses
          .filter((r) => r.id === 'sync')
          .find((r) => textOf(r.body.blocks).includes('sandbox')),
      'the sync result',
    );
    expect(final.body.replace_original).toBe(true);
    // response_url allows 5 uses.
    expect(h.fake.responses.filter((r) => r.id === 'sync').length).toBeLessThanOrEqual(5);
  });

  it('a sync that outlives its response_url (30 minutes, 5 answers) still reports, by DM', async () => {
    h.fake.expireResponseUrl('sync-long', 1); // "Syncing…" gets through, then the URL expires
    const reply = await say('U01ADMIN', 'sync', 'sync-long');
    expect(textOf(reply.body.blocks)).toContain('Syncing');
    const dm = await eventually(
      () =>
        h.fake
          .callsTo('chat.postMessage')
          .find(
            (c) =>
              c.args.channel === 'DU01ADMIN' && textOf(c.args.blocks).includes('Sync finished'),
          ),
      'the sync result by DM',
    );
    expect(textOf(dm.args.blocks)).toContain('sandbox');
    expect(h.fake.refusedResponses.filter((r) => r.id === 'sync-long')).toHaveLength(1);
  });

  it('a member cannot sync', async () => {
    await say('U01CAROL', 'sync', 'sync-carol');
    const refusal = await eventually(
      () =>
        h.fake.responses.find(
          (r) => r.id === 'sync-carol' && textOf(r.body.blocks).includes('Only admins'),
        ),
      'the refusal',
    );
    expect(refusal.body.replace_original).toBe(true);
  });

  it('claim, list mine, then release through the confirm button', async () => {
    const pool = await say('U01CAROL', 'list pool', 'pool');
    const e164 = /\+1\d{10}/.exec(textOf(pool.body.blocks).replace(/ /g, ''))?.[0] as string;
    expect(e164).toBeDefined();
    const claimed = await say('U01CAROL', `claim ${e164}`, 'claim');
    expect(textOf(claimed.body.blocks)).toContain(`Claimed ${e164}`);
    const mine = await say('U01CAROL', 'list mine', 'mine');
    expect(textOf(mine.body.blocks)).toContain('Your numbers');

    const long = await say('U01CAROL', `release ${e164} --reason "${'x'.repeat(600)}"`, 'long');
    expect(textOf(long.body.blocks)).toMatch(/reason: keep the reason under 500 characters/);
    const ask = await say('U01CAROL', `release ${e164} --reason "Campaign over"`, 'release');
    const button = (ask.body.blocks as any[])[0].accessory;
    expect(button.action_id).toBe('sb_release');
    expect(button.confirm.text.text).toContain(e164);
    expect((await h.deps.store.getNumber(e164))?.status).toBe('assigned');
    await postSigned(
      h.server.url,
      actionBody(
        h.fake,
        'U01CAROL',
        { action_id: button.action_id, value: button.value },
        { id: 'release-click' },
      ),
    );
    const done = await eventually(
      () => h.fake.responses.find((r) => r.id === 'release-click'),
      'release answer',
    );
    expect(done.body.replace_original).toBe(true);
    expect(textOf(done.body.blocks)).toContain(`Released ${e164}`);
    expect((await h.deps.store.getNumber(e164))?.status).toBe('released');
  });

  it('unclaim gives a number back to the pool; anyone else is refused, and a linked one names the unlink', async () => {
    const e164 = '+14155550142';
    const claimed = await say('U01CAROL', `claim ${e164}`, 'claim-to-unclaim');
    expect(textOf(claimed.body.blocks)).toContain(`Claimed ${e164}`);

    const other = await say('U01ALICE', `unclaim ${e164}`, 'unclaim-alice');
    expect(textOf(other.body.blocks)).toContain(
      `:lock: ${e164} belongs to U01CAROL: only they or an admin can unclaim it.`,
    );
    await say('U01CAROL', `link ${e164} retell:agent_sandbox_support`, 'link-to-unclaim');
    const linked = await say('U01CAROL', `unclaim ${e164}`, 'unclaim-linked');
    expect(textOf(linked.body.blocks)).toContain(
      `:warning: ${e164} is linked to retell:agent_sandbox_support, so its calls would still reach that agent. Unlink it first (unlink ${e164}), then unclaim it.`,
    );
    expect(await h.deps.store.getNumber(e164)).toMatchObject({ owner: 'U01CAROL' });
    await say('U01CAROL', `unlink ${e164}`, 'unlink-to-unclaim');

    const given = await say('U01CAROL', `unclaim ${e164}`, 'unclaim');
    expect(given.body.response_type).toBe('ephemeral');
    const text = textOf(given.body.blocks);
    expect(text).toContain(
      `${e164} is back in the team pool: anyone can claim it (\`/number claim ${e164}\`). It still costs $1.00/mo; an admin can release it to stop that (\`/number release ${e164}\`).`,
    );
    expect(text).toContain('Sandbox carrier');
    expect(await h.deps.store.getNumber(e164)).toMatchObject({
      status: 'available',
      owner: null,
    });
    const again = await say('U01CAROL', `unclaim ${e164}`, 'unclaim-again');
    expect(textOf(again.body.blocks)).toContain(`${e164} is already in the team pool`);

    // An admin takes a member's number back, and the answer names whose it was.
    await say('U01CAROL', `claim ${e164}`, 'claim-again');
    const taken = await say('U01ADMIN', `unclaim ${e164}`, 'unclaim-admin');
    expect(textOf(taken.body.blocks)).toContain(
      `${e164} is back in the team pool (taken back from <@U01CAROL>)`,
    );
    const events = await h.deps.store.listAudit({ target: e164, limit: 20 });
    expect(
      events.filter((e) => e.command === 'unclaim').map((e) => [e.actor, e.outcome, e.surface]),
    ).toEqual([
      ['U01ADMIN', 'ok', 'slack'],
      ['U01CAROL', 'refused', 'slack'],
      ['U01CAROL', 'ok', 'slack'],
      ['U01CAROL', 'refused', 'slack'],
      ['U01ALICE', 'refused', 'slack'],
    ]);
  });

  it('list 415 is the default scope in area code 415; the scope after it is refused, saying where it goes', async () => {
    const area = await say('U01ADMIN', 'list 415', 'list-415');
    const all = await say('U01ADMIN', 'list all 415', 'list-all-415');
    expect(textOf(area.body.blocks)).toContain('area code 415');
    expect(textOf(area.body.blocks)).toBe(textOf(all.body.blocks));
    const backwards = await say('U01CAROL', 'list 415 pool', 'list-415-pool');
    expect(textOf(backwards.body.blocks)).toContain(
      'The scope comes before the area code: list pool 415.',
    );
  });

  it('App Home shows an approver the requests waiting for them, with buttons', async () => {
    await say('U01ALICE', 'buy 212', 'buy-212');
    const body = JSON.stringify({
      token: 'legacy-verification-token',
      team_id: 'T0TEST',
      api_app_id: 'A0TEST',
      type: 'event_callback',
      event_id: 'Ev1',
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: 'app_home_opened',
        user: 'U01BOB',
        channel: 'D0BOB',
        tab: 'home',
        event_ts: '1.0',
      },
    });
    const res = await postSigned(h.server.url, body, { contentType: 'application/json' });
    expect(res.status).toBe(200);
    const publish = await eventually(
      () => h.fake.callsTo('views.publish').find((c) => c.args.user_id === 'U01BOB'),
      'views.publish',
    );
    const view = publish.args.view as Record<string, any>;
    expect(checkView(view)).toEqual([]);
    expect(textOf(view.blocks)).toContain('Waiting for you');
    expect(JSON.stringify(view.blocks)).toContain('sb_approve');
  });
});
