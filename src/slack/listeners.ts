/**
 * The `/number` command, the buttons and the modal. Every listener acks first, then works, then
 * answers: `respond()` (the command's or the button's response_url) for private answers,
 * chat.postMessage / chat.update for approval messages, views.publish for App Home.
 */
import type { App as BoltApp, RespondFn } from '@slack/bolt';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { App } from '../app.js';
import type { AnyCommand } from '../core/command.js';
import { auditRefusal, describeZodError, runCommand } from '../core/command.js';
import { commands, findCommand } from '../core/commands/index.js';
import type { BuyResult } from '../core/commands/buy.js';
import type { DecisionResult } from '../core/commands/decide.js';
import type { ListResult, UnclaimResult } from '../core/commands/numbers.js';
import type { SearchResult } from '../core/commands/search.js';
import type { SyncResult } from '../core/commands/sync.js';
import { CoreError, asCoreError } from '../core/errors.js';
import { flagNames, parseWords, tokenize } from '../core/grammar.js';
import { parseE164 } from '../core/phone.js';
import { assertMayDecide, isApprover } from '../core/policy.js';
import type { Actor, NumberRecord } from '../core/types.js';
import { renderers } from '../cli/render.js';
import { createAckGate } from './ack-gate.js';
import type { ApprovalMessages, SlackClient } from './approvals.js';
import { ACTIONS, EVENTS, SLACK_VERBS, SLASH_COMMAND, VIEWS, actionPattern } from './registry.js';
import type { Message } from './views/blocks.js';
import { clip, esc, unesc } from './views/blocks.js';
import { helpMessage } from './views/help.js';
import { HOME_NUMBERS, homeView } from './views/home.js';
import {
  listMessage,
  releaseConfirmMessage,
  requestsMessage,
  textMessage,
  unclaimedMessage,
} from './views/lists.js';
import { denyModal, denyModalMetadata, requestedMessage } from './views/request.js';
import { searchMessage } from './views/search.js';

export interface SlackContext {
  app: App;
  messages: ApprovalMessages;
  logger: Logger;
}

/** The core commands `/number` offers, in help order. */
export function slackCommands(): AnyCommand[] {
  const verbs = new Set<string>(SLACK_VERBS);
  return commands.filter((command) => verbs.has(command.name));
}

const actorOf = (user: { id: string; name?: string; username?: string }): Actor => ({
  id: user.id,
  surface: 'slack',
  ...((user.name ?? user.username) ? { displayName: user.name ?? user.username } : {}),
});

/**
 * The core names members by Slack user id ("ask another approver (U07QJ2K8M1L)"); in Slack a
 * mention shows their name. Ids of the policy's members, and anything shaped like a real Slack id
 * (U or W, at least nine characters, a digit among them), become mentions.
 */
function mentionIds(text: string, members: readonly string[]): string {
  return text.replace(/\b[UW][A-Z0-9]{2,}\b/g, (id) =>
    members.includes(id) || /^[UW](?=[A-Z]*\d)[A-Z0-9]{8,}$/.test(id) ? `<@${id}>` : id,
  );
}

/** Slack's answer for each error: the message names the fix; unknown errors get a reference. */
export function errorMessage(
  error: CoreError,
  logger: Logger,
  members: readonly string[] = [],
): Message {
  if (error.code === 'INTERNAL') {
    const ref = randomUUID().slice(0, 8);
    logger.error({ err: error.cause ?? error, ref }, 'unexpected error in a Slack request');
    return textMessage(
      `:x: Something went wrong inside Switchboard (ref ${ref}). Try again; if it keeps failing, give an admin the ref: it is in the server log.`,
    );
  }
  const icon =
    error.code === 'FORBIDDEN'
      ? ':lock:'
      : error.code === 'UPSTREAM' || error.code === 'UNAVAILABLE'
        ? ':x:'
        : ':warning:';
  // Core messages echo what was typed (a city, an agent id) and what a vendor said: never mrkdwn.
  return textMessage(`${icon} ${mentionIds(esc(clip(error.message, 2900)), members)}`);
}

type Reply = (
  message: Message,
  options?: { replace?: boolean; progress?: boolean },
) => Promise<void>;

/**
 * Answers privately through the response_url, or by DM where there is none (App Home, a modal).
 * Slack takes five answers within 30 minutes on a response_url; an answer it refuses (a sync that
 * ran longer, say) goes by DM instead of being lost. Progress notes are only dropped.
 */
function replyWith(
  respond: RespondFn | undefined,
  fallbackDm: (m: Message) => Promise<void>,
  logger: Logger,
): Reply {
  return async (message, options = {}) => {
    if (!respond) return fallbackDm(message);
    try {
      await respond({
        response_type: 'ephemeral',
        replace_original: options.replace ?? false,
        text: message.text,
        blocks: message.blocks as never,
      });
    } catch (error) {
      if (options.progress) throw error;
      logger.warn({ err: error }, 'Slack refused the response_url; answering by DM');
      await fallbackDm(message);
    }
  };
}

/** Whether a button was clicked in a message only the clicker sees (a command's private answer). */
const isEphemeral = (body: unknown) =>
  (body as { container?: { is_ephemeral?: boolean } }).container?.is_ephemeral === true;

/**
 * A response_url kept from a button click (a modal's submission brings none of its own), answered
 * as Bolt's own `respond` does: a refusal (Slack takes five answers within 30 minutes) throws.
 */
function respondTo(url: string): RespondFn {
  return (async (message: Record<string, unknown>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    if (!res.ok) throw new Error(`response_url answered ${res.status}`);
  }) as unknown as RespondFn;
}

function plainResult(name: string, result: unknown): Message {
  const render = renderers[name] as ((r: unknown) => string) | undefined;
  // The CLI's plain text carries reasons, notes and agent names: escaped, so none is a mention or link.
  const text = esc(render ? render(result) : JSON.stringify(result, null, 2));
  return textMessage(text.includes('\n') ? `\`\`\`${clip(text, 2800)}\`\`\`` : text);
}

export function registerListeners(bolt: BoltApp, ctx: SlackContext): void {
  const { app, messages } = ctx;
  const deps = app.deps;
  const log = ctx.logger;
  const members = [...deps.policy.approvers, ...deps.policy.admins];
  const fail = (error: CoreError) => errorMessage(error, log, members);

  // Every request is acked before any work starts, across a burst too (ack-gate.ts).
  const gate = createAckGate();
  const afterAck = gate.afterAck;
  bolt.use(async ({ next }) => {
    gate.arrived();
    await next();
  });

  const run = <O>(
    command: AnyCommand,
    actor: Actor,
    input: unknown,
    progress?: Parameters<typeof runCommand>[4],
  ) => runCommand(deps, command as never, actor, input, progress ?? {}) as Promise<O>;

  /** A new request: the requester's answer, then the approval message(s). */
  async function afterBuy(result: BuyResult, reply: Reply): Promise<void> {
    await reply(requestedMessage(result));
    if (result.request.status === 'pending') await messages.post(result.request);
  }

  async function decide(
    verb: 'approve' | 'deny',
    actor: Actor,
    input: { id: string; reason?: string; note?: string },
    reply: Reply,
  ): Promise<DecisionResult | null> {
    const command = findCommand(verb) as AnyCommand;
    try {
      const result = await run<DecisionResult>(command, actor, input);
      await messages.refresh(result.request.id);
      return result;
    } catch (thrown) {
      const error = asCoreError(thrown);
      await reply(fail(error));
      // Already decided elsewhere: make sure every message shows it.
      if (error.code === 'CONFLICT') await messages.refresh(input.id.toUpperCase());
      return null;
    }
  }

  async function publishHome(userId: string): Promise<void> {
    const actor: Actor = { id: userId, surface: 'slack' };
    const approver = isApprover(deps.policy, actor);
    // Home is a view, not a command: it reads the store directly and writes no audit events.
    // One more than Home shows of each list, to know whether the store holds more.
    const [numbers, totals, myRequests, waiting] = await Promise.all([
      deps.store.listNumbers({ owner: userId, limit: HOME_NUMBERS }),
      deps.store.numberTotals({ owner: userId }),
      deps.store.listRequests({ requester: userId, statuses: ['pending'], limit: 21 }),
      approver
        ? deps.store.listRequests({ statuses: ['pending'], limit: 41 })
        : Promise.resolve([]),
    ]);
    await (bolt.client as unknown as SlackClient).views.publish({
      user_id: userId,
      view: homeView({
        userId,
        approver,
        allowSelfApproval: deps.policy.allowSelfApproval,
        numbers: numbers as NumberRecord[],
        numbersTotal: Math.max(
          numbers.length,
          totals.reduce((sum, t) => sum + t.count, 0),
        ),
        myRequests: myRequests.slice(0, 20),
        myRequestsBeyond: myRequests.length > 20,
        waiting: waiting.slice(0, 40).filter((r) => r.expiresAt > deps.clock.now()),
        waitingBeyond: waiting.length > 40,
      }),
    });
  }

  async function handleText(text: string, actor: Actor, reply: Reply): Promise<void> {
    const available = slackCommands();
    let words: string[];
    try {
      words = tokenize(text);
    } catch (error) {
      await reply(helpMessage(available, asCoreError(error).message));
      return;
    }
    const [verb, ...typed] = words;
    if (verb === undefined || verb.toLowerCase() === 'help') {
      await reply(helpMessage(available));
      return;
    }
    const command = available.find((c) => c.name === verb.toLowerCase());
    if (!command) {
      const error = new CoreError('INVALID_INPUT', `"${clip(verb, 40)}" is not something I know.`);
      await auditRefusal(deps, actor, verb, error);
      await reply(helpMessage(available, error.message));
      return;
    }
    // Phones turn a typed `--` into a dash (iOS smart punctuation): `—reason` is `--reason`.
    const flags = new Set(flagNames(command));
    const rest = typed.map((word) => {
      const dashed = /^[\u2013\u2014]([a-z][a-z-]*)(=[\s\S]*)?$/.exec(word);
      return dashed?.[1] && flags.has(dashed[1]) ? `--${dashed[1]}${dashed[2] ?? ''}` : word;
    });
    let input: Record<string, unknown>;
    try {
      input = parseWords(command, rest);
    } catch (thrown) {
      const error = asCoreError(thrown);
      await auditRefusal(deps, actor, command.name, error);
      await reply(helpMessage(available, error.message));
      return;
    }
    try {
      switch (command.name) {
        case 'search': {
          await reply(searchMessage(await run<SearchResult>(command, actor, input)));
          return;
        }
        case 'buy':
          await afterBuy(await run<BuyResult>(command, actor, input), reply);
          return;
        case 'release': {
          // Typed release asks first: the button's confirm dialog names the number.
          const e164 = parseE164(String(input.number ?? ''));
          if (!e164)
            throw new CoreError(
              'INVALID_INPUT',
              `Give the number in E.164 form, e.g. ${SLASH_COMMAND} release +14155550123`,
            );
          // Checked now, not only when the button is clicked: the button carries the input.
          const checked = command.input.safeParse(input);
          if (!checked.success)
            throw new CoreError('INVALID_INPUT', describeZodError(checked.error, command.usage));
          const options = {
            unlink: input.unlink === true,
            ...(typeof input.reason === 'string' ? { reason: input.reason } : {}),
          };
          // The button's value (at most 2,000 characters in Slack) carries the reason, escaped.
          if (JSON.stringify({ number: e164, ...options }).length > 2000)
            throw new CoreError(
              'INVALID_INPUT',
              'That reason is too long to carry on a button. Shorten it, in plain text.',
            );
          await reply(releaseConfirmMessage(e164, options));
          return;
        }
        case 'list':
          await reply(listMessage(await run<ListResult>(command, actor, input)));
          return;
        case 'unclaim':
          await reply(unclaimedMessage(await run<UnclaimResult>(command, actor, input)));
          return;
        case 'requests': {
          const result = await run<{ scope: string; requests: [] }>(command, actor, input);
          await reply(
            requestsMessage(result, {
              id: actor.id,
              approver: isApprover(deps.policy, actor),
              allowSelfApproval: deps.policy.allowSelfApproval,
            }),
          );
          return;
        }
        case 'approve':
        case 'deny': {
          const result = await decide(command.name, actor, input as { id: string }, reply);
          if (result) await reply(plainResult(command.name, result));
          return;
        }
        case 'sync':
          await runSync(command, actor, input, reply);
          return;
        default: {
          const result = await run<unknown>(command, actor, input);
          await reply(plainResult(command.name, result));
        }
      }
    } catch (thrown) {
      await reply(fail(asCoreError(thrown)));
    }
  }

  /** Sync shows progress by replacing one message (response_url allows 5 uses: we use at most 4). */
  async function runSync(command: AnyCommand, actor: Actor, input: unknown, reply: Reply) {
    await reply(textMessage(':arrows_counterclockwise: Syncing the carrier accounts…'));
    let updates = 0;
    let last = Date.now();
    let pending: Promise<void> = Promise.resolve();
    const progress = (event: { phase: string; done: number; total?: number; message?: string }) => {
      if (updates >= 2 || Date.now() - last < 2000) return;
      updates++;
      last = Date.now();
      pending = reply(
        textMessage(
          `:arrows_counterclockwise: ${event.phase}: ${event.done}${event.total ? `/${event.total}` : ''} numbers${event.message ? ` (${event.message})` : ''}…`,
        ),
        { replace: true, progress: true },
      ).catch(() => undefined);
    };
    try {
      const result = await run<SyncResult>(command, actor, input, { progress });
      await pending;
      await reply(plainResult('sync', result), { replace: true });
      await messages.refreshStale();
    } catch (thrown) {
      await pending;
      await reply(fail(asCoreError(thrown)), { replace: true });
    }
  }

  // ----------------------------------------------------------------------------------------------

  bolt.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    await ack();
    await afterAck();
    const actor = actorOf({ id: command.user_id, name: command.user_name });
    await handleText(
      unesc(command.text ?? ''),
      actor,
      replyWith(respond, (m) => messages.dm(actor.id, m), log),
    );
  });

  bolt.action(actionPattern(ACTIONS.requestQuote), async ({ ack, body, action, respond }) => {
    await ack();
    await afterAck();
    const actor = actorOf(body.user);
    const reply = replyWith(respond, (m) => messages.dm(actor.id, m), log);
    const quoteId = (action as { value?: string }).value ?? '';
    try {
      const result = await run<BuyResult>(findCommand('buy') as AnyCommand, actor, {
        target: quoteId,
      });
      await afterBuy(result, reply);
    } catch (thrown) {
      await reply(fail(asCoreError(thrown)));
    }
  });

  bolt.action(actionPattern(ACTIONS.approve), async ({ ack, body, action, respond }) => {
    await ack();
    await afterAck();
    const actor = actorOf(body.user);
    const reply = replyWith(respond, (m) => messages.dm(actor.id, m), log);
    const id = (action as { value?: string }).value ?? '';
    const result = await decide('approve', actor, { id }, reply);
    if ((body as { view?: { type?: string } }).view?.type === 'home') await publishHome(actor.id);
    // Clicked in a private list (`/number requests`): no approval message is redrawn before their
    // eyes, so the answer goes there.
    else if (result && isEphemeral(body)) await reply(plainResult('approve', result));
  });

  bolt.action(actionPattern(ACTIONS.deny), async ({ ack, body, action, respond, client }) => {
    await ack();
    await afterAck();
    const actor = actorOf(body.user);
    const reply = replyWith(respond, (m) => messages.dm(actor.id, m), log);
    const id = ((action as { value?: string }).value ?? '').toUpperCase();
    try {
      const request = await deps.store.getRequest(id);
      if (!request) throw new CoreError('NOT_FOUND', `No request ${id}.`);
      // Past its expiry, a request still pending until the expiry job runs is expired all the
      // same (approving it is refused too): no form asks for a reason that would go nowhere.
      if (request.status === 'expired' || request.expiresAt <= deps.clock.now()) {
        await messages.refresh(id);
        throw new CoreError(
          'CONFLICT',
          `Request ${id} expired before anyone decided; nothing was bought. The requester can ask again: ${SLASH_COMMAND} buy ${request.e164}`,
        );
      }
      if (request.status !== 'pending') {
        await messages.refresh(id);
        throw new CoreError(
          'CONFLICT',
          `Request ${id} is already ${request.status}${request.decidedBy ? ` by ${request.decidedBy}` : ''}.`,
        );
      }
      // Refuse before asking for a reason: only those who may deny see the modal.
      assertMayDecide(deps.policy, actor, request, false);
      const triggerId = (body as { trigger_id?: string }).trigger_id;
      if (!triggerId)
        throw new CoreError(
          'INVALID_INPUT',
          'Slack sent no trigger to open the form. Type: /number deny <id> <reason>',
        );
      const responseUrl = (body as { response_url?: string }).response_url;
      await (client as unknown as SlackClient).views.open({
        trigger_id: triggerId,
        view: denyModal(request, {
          ...((body as { view?: { type?: string } }).view?.type === 'home' ? { home: true } : {}),
          ...(isEphemeral(body) && responseUrl ? { responseUrl } : {}),
        }),
      });
    } catch (thrown) {
      const error = asCoreError(thrown);
      if (error.code === 'FORBIDDEN') await auditRefusal(deps, actor, 'deny', error);
      await reply(fail(error));
    }
  });

  bolt.action(actionPattern(ACTIONS.release), async ({ ack, body, action, respond }) => {
    await ack();
    await afterAck();
    const actor = actorOf(body.user);
    const reply = replyWith(respond, (m) => messages.dm(actor.id, m), log);
    try {
      const value = JSON.parse((action as { value?: string }).value ?? '{}') as Record<
        string,
        unknown
      >;
      const result = await run<unknown>(findCommand('release') as AnyCommand, actor, value);
      await reply(plainResult('release', result), { replace: true });
    } catch (thrown) {
      await reply(fail(asCoreError(thrown)));
    }
  });

  bolt.view(VIEWS.denyModal, async ({ ack, body, view }) => {
    const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
    if (reason === '') {
      await ack({ response_action: 'errors', errors: { reason: 'Say why, for the requester.' } });
      return;
    }
    await ack();
    await afterAck();
    const actor = actorOf(body.user);
    const origin = denyModalMetadata(view.private_metadata);
    const reply = origin.responseUrl
      ? replyWith(respondTo(origin.responseUrl), (m) => messages.dm(actor.id, m), log)
      : (m: Message) => messages.dm(actor.id, m);
    const result = await decide('deny', actor, { id: origin.id, reason }, reply);
    if (origin.home) await publishHome(actor.id);
    else if (result && origin.responseUrl) await reply(plainResult('deny', result));
  });

  for (const event of EVENTS) {
    bolt.event(event, async ({ event: payload }) => {
      const home = payload as { tab?: string; user: string };
      if (home.tab !== undefined && home.tab !== 'home') return;
      await publishHome(home.user);
    });
  }

  bolt.error(async (error) => {
    log.error({ err: error }, 'Slack listener failed');
  });
}
