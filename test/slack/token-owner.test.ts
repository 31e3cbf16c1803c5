/* eslint-disable @typescript-eslint/no-explicit-any -- Slack payloads are loosely typed JSON in assertions */
/**
 * Slack and a purchase requested through an MCP token: the approval message says on whose behalf
 * it was made; the approver who owns the token is refused privately when they click Approve (and
 * sees no Approve button in `/number requests`), another approver buys it, and the owner is told
 * by DM.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import type { BuyResult } from '../../src/core/commands/buy.js';
import { buy } from '../../src/core/commands/index.js';
import { tokenActor } from '../../src/mcp/tokens.js';
import { checkBlocks } from '../../src/slack/views/limits.js';
import { actionBody, eventually, postSigned, slashBody, textOf } from './fake-slack.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const responseFor = (h: Harness, id: string) => () => h.fake.responses.find((r) => r.id === id);

describe('Slack: a purchase requested through an approver-owned MCP token', () => {
  it('says on whose behalf; refuses the owner privately and hides their buttons; another approver buys', async () => {
    h = await startHarness({ policy: { approvers: ['U01BOB', 'U01DAVE'] } });
    const made = await h.deps.store.createApiToken({
      name: 'bob-claude',
      role: 'requester',
      tokenHash: 'f'.repeat(64),
      createdBy: 'U01ADMIN',
      owner: 'U01BOB',
      now: new Date(),
    });
    if (made.status !== 'created') throw new Error('token not made');
    const { request } = (await runCommand(h.deps, buy, tokenActor(made.token), {
      target: '415',
      reason: 'for my assistant',
    })) as BuyResult;
    expect(request.onBehalfOf).toBe('U01BOB');

    expect(await h.server.slack!.messages.post(request)).toBe(1);
    const post = h.fake
      .callsTo('chat.postMessage')
      .find((c) => textOf(c.args.blocks).includes(request.id));
    const blocks = post?.args.blocks as unknown[];
    expect(textOf(blocks)).toContain(
      `*Purchase request ${request.id}* from \`mcp:bob-claude\` (via mcp) on behalf of <@U01BOB>`,
    );
    expect(checkBlocks(blocks, 'message')).toEqual([]);

    // Bob clicks Approve on the message: refused, privately; nothing changes.
    await postSigned(
      h.server.url,
      actionBody(h.fake, 'U01BOB', { action_id: 'sb_approve', value: request.id }, { id: 'bob' }),
    );
    const refusal = await eventually(responseFor(h, 'bob'), 'the refusal for the owner');
    expect(refusal.body.response_type).toBe('ephemeral');
    expect(textOf(refusal.body.blocks)).toContain(
      `You cannot approve ${request.id}: it was requested through your MCP token bob-claude`,
    );
    expect(textOf(refusal.body.blocks)).toContain('another approver (<@U01DAVE>)');
    expect((await h.deps.store.getRequest(request.id))?.status).toBe('pending');
    expect(h.fake.callsTo('chat.update')).toHaveLength(0);
    const [refused] = await h.deps.store.listAudit({ actor: 'U01BOB', requestId: request.id });
    expect(refused).toMatchObject({ command: 'approve', outcome: 'refused', surface: 'slack' });

    // `/number requests`: Bob sees it without buttons, Dave with them.
    const buttonsFor = async (user: string) => {
      const id = `requests-${user}`;
      await postSigned(h!.server.url, slashBody(h!.fake, user, 'requests', id));
      const reply = await eventually(responseFor(h!, id), `requests for ${user}`);
      const shown = reply.body.blocks as Array<Record<string, any>>;
      expect(textOf(shown)).toContain(`${request.id}`);
      expect(textOf(shown)).toContain('for <@U01BOB>');
      return shown.filter((b) => b.type === 'actions').length;
    };
    expect(await buttonsFor('U01BOB')).toBe(0);
    expect(await buttonsFor('U01DAVE')).toBe(1);

    await postSigned(
      h.server.url,
      actionBody(h.fake, 'U01DAVE', { action_id: 'sb_approve', value: request.id }, { id: 'dave' }),
    );
    await eventually(
      () =>
        h!.fake.callsTo('chat.update').find((c) => textOf(c.args.blocks).includes('Bought and')),
      'the message updated in place',
    );
    expect((await h.deps.store.getRequest(request.id))?.status).toBe('done');

    // The owner hears how it ended, by DM, and which token asked; the token itself has no DM.
    const dm = await eventually(
      () => h!.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'DU01BOB'),
      'the DM to the token owner',
    );
    expect(textOf(dm.args.blocks as unknown[])).toContain(
      `Your request ${request.id} (made by mcp:bob-claude on your behalf) was approved by <@U01DAVE>`,
    );
    expect(textOf(dm.args.blocks as unknown[])).toContain('is yours');
    expect(
      h.fake.callsTo('conversations.open').filter((c) => c.args.users !== 'U01BOB'),
    ).toHaveLength(0);
  });
});
