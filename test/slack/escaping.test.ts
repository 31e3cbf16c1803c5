/**
 * Text in and out of Slack. A slash command's text arrives with `&`, `<` and `>` escaped by Slack
 * (`&amp;`, `&lt;`, `&gt;`): the core stores what the member typed. Whatever is echoed back (a
 * city that is not known, a deny reason) is escaped again, so `<!channel>` or `<http://x|y>` typed
 * by a member is shown as typed, never as a mention or a link.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreError } from '../../src/core/errors.js';
import { errorMessage } from '../../src/slack/listeners.js';
import { esc } from '../../src/slack/views/blocks.js';
import { eventually, postSigned, slashBody, textOf } from './fake-slack.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What Slack posts for what the member typed: `&`, `<` and `>` escaped. */
const typed = (text: string) => esc(text);

const say = async (user: string, text: string, id: string) => {
  await postSigned(h.server.url, slashBody(h.fake, user, typed(text), id));
  return eventually(() => h.fake.responses.find((r) => r.id === id), `reply to ${text}`);
};

/** Every mrkdwn control sequence in a text: `<…>` that Slack would parse. */
const controls = (text: string) => text.match(/<[^>]*>/g) ?? [];

describe('Slack text in and out', () => {
  it('stores a reason as typed (R&D), and shows it escaped once in the approval message', async () => {
    const reply = await say('U01ALICE', 'buy 415 --reason "R&D line <for> Acme"', 'buy-rd');
    const requestId = /R-[0-9A-Z]+/.exec(textOf(reply.body.blocks))?.[0] as string;
    expect(requestId).toBeDefined();
    const request = await h.deps.store.getRequest(requestId);
    expect(request?.reason).toBe('R&D line <for> Acme');
    const post = await eventually(
      () =>
        h.fake.callsTo('chat.postMessage').find((c) => textOf(c.args.blocks).includes(requestId)),
      'the approval message',
    );
    const text = textOf(post.args.blocks);
    expect(text).toContain('R&amp;D line &lt;for&gt; Acme');
    expect(text).not.toContain('&amp;amp;');
  });

  it('an error that echoes what was typed shows it as text, not as a mention or a link', async () => {
    const reply = await say(
      'U01ALICE',
      'search "<!channel> <http://evil.example|San Francisco>"',
      'search-evil',
    );
    const blocks = textOf(reply.body.blocks);
    expect(blocks).toContain('&lt;!channel&gt;');
    expect(blocks).toContain('&lt;http://evil.example|San Francisco&gt;');
    expect(controls(blocks)).toEqual([]);
    expect(controls(String(reply.body.text))).toEqual([]);
  });

  it("a typed deny echoes the reason escaped; the requester's DM too", async () => {
    const asked = await say('U01ALICE', 'buy 212 --reason "second line"', 'buy-212');
    const requestId = /R-[0-9A-Z]+/.exec(textOf(asked.body.blocks))?.[0] as string;
    const reply = await say(
      'U01BOB',
      `deny ${requestId} <!here> see <http://evil.example|this>`,
      'deny',
    );
    const text = textOf(reply.body.blocks);
    expect(text).toContain(`Denied ${requestId}`);
    expect(text).toContain('&lt;!here&gt; see &lt;http://evil.example|this&gt;');
    expect(controls(text)).toEqual([]);
    expect((await h.deps.store.getRequest(requestId))?.decisionNote).toBe(
      '<!here> see <http://evil.example|this>',
    );
    const dm = await eventually(
      () =>
        h.fake
          .callsTo('chat.postMessage')
          .find((c) => c.args.channel === 'DU01ALICE' && textOf(c.args.blocks).includes(requestId)),
      'the DM to the requester',
    );
    const told = `${textOf(dm.args.blocks)}\n${String(dm.args.text)}`;
    expect(told).toContain('&lt;!here&gt;');
    expect(controls(told).filter((c) => /here|evil/.test(c))).toEqual([]);
  });

  it('a refusal names the approvers and admins as Slack mentions, not as raw user ids', async () => {
    const asked = await say('U01ALICE', 'buy 312 --reason "third line"', 'buy-312');
    const requestId = /R-[0-9A-Z]+/.exec(textOf(asked.body.blocks))?.[0] as string;
    expect(requestId, textOf(asked.body.blocks)).toBeDefined();
    const refusal = await say('U01CAROL', `approve ${requestId}`, 'carol-approve');
    const text = textOf(refusal.body.blocks);
    expect(text).toContain('Only approvers can approve');
    expect(text).toContain('<@U01BOB>');
    expect(text.replace(/<@U01BOB>/g, '')).not.toContain('U01BOB');
    await say('U01CAROL', 'sync', 'carol-sync'); // "Syncing…", then the refusal in its place
    const sync = await eventually(
      () =>
        h.fake.responses.find(
          (r) => r.id === 'carol-sync' && textOf(r.body.blocks).includes('Only admins'),
        ),
      'the refusal',
    );
    expect(textOf(sync.body.blocks)).toContain('admins: <@U01ADMIN>');
  });

  it('only what is shaped like a Slack user id becomes a mention', () => {
    const error = new CoreError(
      'FORBIDDEN',
      '+14155550100 belongs to U07QJ2K8M1L: UNAVAILABLE in USD, not W123 nor WORKSPACES.',
    );
    const text = textOf(errorMessage(error, pino({ level: 'silent' })).blocks);
    expect(text).toContain('belongs to <@U07QJ2K8M1L>');
    expect(controls(text)).toEqual(['<@U07QJ2K8M1L>']);
  });

  it('takes the command as a phone types it: HELP, a dash for --, curly quotes', async () => {
    const help = await say('U01ALICE', 'HELP', 'help-upper');
    expect(textOf(help.body.blocks)).toContain('What you can type');
    expect(textOf(help.body.blocks)).not.toContain('is not something I know');
    const reply = await say(
      'U01ALICE',
      'buy 512 \u2014reason \u201cSupport line\u201d',
      'buy-dash',
    );
    const requestId = /R-[0-9A-Z]+/.exec(textOf(reply.body.blocks))?.[0] as string;
    expect(requestId, textOf(reply.body.blocks)).toBeDefined();
    expect((await h.deps.store.getRequest(requestId))?.reason).toBe('Support line');
  });

  it('an unknown word in help is escaped in the notification text too', async () => {
    const reply = await say('U01ALICE', '<!channel>', 'unknown');
    expect(String(reply.body.text)).toContain('&lt;!channel&gt;');
    expect(controls(String(reply.body.text))).toEqual([]);
    expect(controls(textOf(reply.body.blocks)).filter((c) => c.includes('!channel'))).toEqual([]);
  });
});
