/**
 * Everything the Slack app registers with Bolt, as plain data: the listeners are wired from it, and
 * `tools/check-manifest.mjs` checks manifest.yml against it in CI. No Bolt import here, so the
 * check (and the views) load it cheaply.
 */

export const SLASH_COMMAND = '/number';

/**
 * The `/number` grammar (DESIGN.md). Each verb is a core command of the same name, used only when
 * the command registry has it (`provision` arrives with the agents issue). `approve` and `deny`
 * are buttons first; typed, they work for approvers too.
 */
export const SLACK_VERBS = [
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
  'provision',
  'approve',
  'deny',
] as const;

export const SLASH_USAGE_HINT =
  'help | search 415 | buy 415 | claim +1… | unclaim +1… | release +1… | link +1… retell:agent_… | unlink +1… | list [mine|pool|all] | requests | sync | provision <business phone> [agent]';

export const SLASH_DESCRIPTION = 'Phone numbers for AI voice agents: search, request, claim, link';

/**
 * Block action ids. A message holding several buttons of one kind suffixes them (`sb_approve:2`)
 * so every action_id is unique in the message; listeners match the prefix.
 */
export const ACTIONS = {
  requestQuote: 'sb_request_quote',
  approve: 'sb_approve',
  deny: 'sb_deny',
  release: 'sb_release',
} as const;

export const VIEWS = { denyModal: 'sb_deny_modal' } as const;

/** Events API subscriptions (bot events). */
export const EVENTS = ['app_home_opened'] as const;

/**
 * The fewest bot scopes that work: `commands` for /number, `chat:write` to post and update approval
 * messages (in a channel the bot was invited to, or in DMs), `im:write` to open a DM with an
 * approver or a requester (conversations.open).
 */
export const BOT_SCOPES = ['commands', 'chat:write', 'im:write'] as const;

/** The HTTP path Slack posts commands, actions and events to. */
export const EVENTS_PATH = '/slack/events';

export const actionPattern = (prefix: string): RegExp => new RegExp(`^${prefix}(:\\d+)?$`);
