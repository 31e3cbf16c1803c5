/**
 * Approval messages: posting a request to the approval channel (or to each approver by DM), and
 * redrawing every message of a request in place once it moves on (decided, bought, failed,
 * expired). Everything needed comes from the database (the Slack message refs), so any replica
 * can redraw any message after any restart; of two redraws of one change only one wins
 * (`claimSlackMessage` is a compare-and-set), and only the winner of the first message tells the
 * requester, so they hear about each outcome once.
 */
import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { PurchaseRequest } from '../core/types.js';
import type { Message } from './views/blocks.js';
import { approvalMessage, outcomeNotice } from './views/request.js';
import { poolForQuote } from '../core/commands/search.js';

/** The part of Slack's WebClient Switchboard uses (the real one satisfies it; tests may fake it). */
export interface SlackClient {
  chat: {
    postMessage(args: {
      channel: string;
      text: string;
      blocks?: unknown[];
    }): Promise<{ ok?: boolean; channel?: string; ts?: string }>;
    update(args: {
      channel: string;
      ts: string;
      text: string;
      blocks?: unknown[];
    }): Promise<unknown>;
  };
  conversations: {
    open(args: { users: string }): Promise<{ channel?: { id?: string } }>;
  };
  views: {
    open(args: { trigger_id: string; view: Record<string, unknown> }): Promise<unknown>;
    publish(args: { user_id: string; view: Record<string, unknown> }): Promise<unknown>;
  };
}

const NOTIFY = new Set(['done', 'denied', 'expired', 'failed', 'needs_attention']);

/** Slack user ids look like U01ABC…/W…; the CLI's `local` operator has no Slack DM. */
export const isSlackUser = (id: string) => /^[UW][A-Z0-9]{2,}$/.test(id);

export class ApprovalMessages {
  constructor(
    private readonly app: App,
    private readonly client: SlackClient,
    private readonly logger: Logger,
    private readonly approvalChannel: string | undefined,
  ) {}

  /**
   * Where approval messages go: the configured channel, or each approver's DM. `failed` says that
   * some approver could not be reached (worth trying again), as against there being nobody.
   */
  private async targets(): Promise<{ channels: string[]; failed: boolean }> {
    if (this.approvalChannel) return { channels: [this.approvalChannel], failed: false };
    const channels: string[] = [];
    let failed = false;
    for (const approver of this.app.deps.policy.approvers) {
      if (!isSlackUser(approver)) continue;
      try {
        const opened = await this.client.conversations.open({ users: approver });
        if (opened.channel?.id) channels.push(opened.channel.id);
      } catch (error) {
        // One unreachable approver (deactivated, another workspace) must not stop the others.
        failed = true;
        this.logger.warn({ err: error, approver }, 'could not open a DM with an approver');
      }
    }
    return { channels, failed };
  }

  /**
   * Posts the approval message(s) for a new pending request and records where they are. A request
   * is announced once: whoever claims it first (the listener that made it, or the announce job on
   * any replica) posts it; everyone else returns 0.
   */
  async post(request: PurchaseRequest): Promise<number> {
    if (!(await this.app.deps.store.claimSlackAnnouncement(request.id))) return 0;
    const { channels, failed } = await this.targets();
    if (channels.length === 0 && !failed) {
      // Nobody in Slack to ask (no channel, no approver with a Slack id): approvers use the CLI.
      return 0;
    }
    // Read only when there is somewhere to post: the pool lookup is a query of its own.
    const quote = await this.app.deps.store.getQuote(request.quoteId);
    const pool =
      quote && request.status === 'pending' ? await poolForQuote(this.app.deps.store, quote) : null;
    const message = approvalMessage(request, quote, pool);
    let posted = 0;
    for (const channel of channels) {
      try {
        const sent = await this.client.chat.postMessage({ channel, ...message });
        if (sent.channel && sent.ts) {
          await this.app.deps.store.saveSlackMessage({
            requestId: request.id,
            channel: sent.channel,
            ts: sent.ts,
            renderedStatus: request.status,
          });
          posted++;
        }
      } catch (error) {
        // One unreachable approver (or a channel the bot is not in) must not stop the others.
        this.logger.warn(
          { err: error, requestId: request.id, channel },
          'could not post the approval message',
        );
      }
    }
    if (posted === 0) {
      // Nowhere to be seen: give the announcement back so the announce job tries again.
      await this.app.deps.store.releaseSlackAnnouncement(request.id);
      this.logger.warn(
        { requestId: request.id },
        'the approval message could not be posted anywhere; it will be tried again',
      );
      return 0;
    }
    // The request may have moved on while we posted (a quick CLI approval): draw it as it is now.
    await this.refresh(request.id);
    return posted;
  }

  /** Redraws every message of a request whose status moved on, and tells the requester once. */
  async refresh(requestId: string): Promise<void> {
    const request = await this.app.deps.store.getRequest(requestId);
    if (!request) return;
    const refs = await this.app.deps.store.listSlackMessages(requestId);
    if (refs.length === 0) return;
    const quote = await this.app.deps.store.getQuote(request.quoteId);
    const message = approvalMessage(request, quote);
    for (const [index, ref] of refs.entries()) {
      if (ref.renderedStatus === request.status) continue;
      const won = await this.app.deps.store.claimSlackMessage(
        ref.channel,
        ref.ts,
        ref.renderedStatus,
        request.status,
      );
      if (!won) continue;
      try {
        await this.client.chat.update({ channel: ref.channel, ts: ref.ts, ...message });
      } catch (error) {
        this.logger.warn({ err: error, requestId, channel: ref.channel }, 'chat.update failed');
      }
      // The member hears once per outcome, whichever path gets there first: this redraw, or the
      // notice noticeOutcomes() sent while the message was still being posted (claim_slack_notice).
      if (
        index === 0 &&
        NOTIFY.has(request.status) &&
        (await this.app.deps.store.claimSlackNotice(request.id, request.status))
      )
        await this.notifyRequester(request);
    }
  }

  /** Posts requests made outside Slack (CLI, MCP) to the approvers; returns how many. */
  async announcePending(limit = 50): Promise<number> {
    const pending = await this.app.deps.store.listUnannouncedRequests(
      this.app.deps.clock.now(),
      limit,
    );
    let announced = 0;
    for (const request of pending) if ((await this.post(request)) > 0) announced++;
    return announced;
  }

  /**
   * Tells members how their requests ended where no approval message could carry it (nobody in
   * Slack to ask: approvers work in the CLI). One notice per request and outcome, over every
   * replica; requests that ended more than a day ago are left alone, so a first start does not
   * send a backlog. Returns how many were claimed.
   */
  async noticeOutcomes(limit = 50): Promise<number> {
    const since = new Date(this.app.deps.clock.now().getTime() - 24 * 60 * 60_000);
    const ended = await this.app.deps.store.listUnnoticedOutcomes(since, limit);
    let claimed = 0;
    for (const request of ended) {
      if (!(await this.app.deps.store.claimSlackNotice(request.id, request.status))) continue;
      claimed++;
      await this.notifyRequester(request);
    }
    if (claimed > 0)
      this.logger.info({ notices: claimed }, 'told members how requests without a message ended');
    return claimed;
  }

  /** Redraws the messages of every request that moved on without Slack (CLI, expiry, reconcile). */
  async refreshStale(limit = 200): Promise<number> {
    const stale = await this.app.deps.store.listStaleSlackMessages(limit);
    const ids = [...new Set(stale.map((ref) => ref.requestId))];
    for (const id of ids) await this.refresh(id);
    return ids.length;
  }

  /**
   * Tells the member a request was for how it ended: whoever asked in Slack, or the owner of the
   * MCP token that asked on their behalf. (A CLI requester is at a terminal, not in Slack.)
   */
  async notifyRequester(request: PurchaseRequest): Promise<void> {
    const member = request.onBehalfOf ?? request.requester;
    if (request.surface !== 'slack' && !request.onBehalfOf) return;
    if (!isSlackUser(member)) return;
    await this.dm(member, outcomeNotice(request));
  }

  /** A private message to one member, in their DM with the app. */
  async dm(userId: string, message: Message): Promise<void> {
    try {
      const opened = await this.client.conversations.open({ users: userId });
      const channel = opened.channel?.id;
      if (channel) await this.client.chat.postMessage({ channel, ...message });
    } catch (error) {
      this.logger.warn({ err: error, userId }, 'could not send a direct message');
    }
  }
}
