/**
 * Small Block Kit builders that keep every piece within Slack's limits by construction: texts are
 * clipped, buttons too. `limits.ts` checks whole messages and views.
 */
import { LIMITS } from './limits.js';

export type Block = Record<string, unknown>;
export type Element = Record<string, unknown>;

/** Clips text to `max` characters, ending with an ellipsis when it had to cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Undoes Slack's escaping of what a member typed: a slash command's text arrives with `&`, `<` and
 * `>` as `&amp;`, `&lt;` and `&gt;`, and the core must store what was typed (`R&D`, not `R&amp;D`).
 * Whatever is echoed back goes through `esc` again.
 */
export function unesc(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export const mrkdwn = (text: string) => ({
  type: 'mrkdwn',
  text: clip(text, LIMITS.sectionText),
});
export const plain = (text: string, max: number = LIMITS.sectionText) => ({
  type: 'plain_text',
  text: clip(text, max),
  emoji: true,
});

export function section(text: string, accessory?: Element): Block {
  return { type: 'section', text: mrkdwn(text), ...(accessory ? { accessory } : {}) };
}

export function fields(items: string[], text?: string): Block {
  return {
    type: 'section',
    ...(text ? { text: mrkdwn(text) } : {}),
    fields: items.slice(0, LIMITS.sectionFields).map((item) => ({
      type: 'mrkdwn',
      text: clip(item, LIMITS.fieldText),
    })),
  };
}

export function header(text: string): Block {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

export function context(text: string): Block {
  return { type: 'context', elements: [mrkdwn(text)] };
}

export const divider = (): Block => ({ type: 'divider' });

export function actions(elements: Element[], blockId?: string): Block {
  return {
    type: 'actions',
    ...(blockId ? { block_id: clip(blockId, LIMITS.blockId) } : {}),
    elements: elements.slice(0, LIMITS.actionsElements),
  };
}

export interface Confirm {
  title: string;
  text: string;
  confirm: string;
  deny?: string;
  danger?: boolean;
}

export function button(
  text: string,
  actionId: string,
  value: string,
  options: { style?: 'primary' | 'danger'; confirm?: Confirm } = {},
): Element {
  if (value.length > LIMITS.buttonValue) throw new Error(`button value over ${LIMITS.buttonValue}`);
  return {
    type: 'button',
    text: plain(text, LIMITS.buttonText),
    action_id: actionId,
    value,
    ...(options.style ? { style: options.style } : {}),
    ...(options.confirm
      ? {
          confirm: {
            title: plain(options.confirm.title, LIMITS.confirmTitle),
            text: mrkdwn(clip(options.confirm.text, LIMITS.confirmText)),
            confirm: plain(options.confirm.confirm, LIMITS.confirmButton),
            deny: plain(options.confirm.deny ?? 'Cancel', LIMITS.confirmButton),
            ...(options.confirm.danger ? { style: 'danger' } : {}),
          },
        }
      : {}),
  };
}

/** A Slack date token: shows in each reader's time zone, with a plain fallback. */
export function slackDate(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000);
  const fallback = `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
  return `<!date^${seconds}^{date_short_pretty} {time}|${fallback}>`;
}

export const mention = (userId: string) =>
  /^[UW][A-Z0-9]{2,}$/.test(userId) ? `<@${userId}>` : `\`${esc(userId)}\``;

/** A message: blocks plus the notification text Slack shows where blocks cannot be. */
export interface Message {
  text: string;
  blocks: Block[];
}

/** Keeps at most `max` blocks, replacing the overflow by one context line that says so. */
export function fit(blocks: Block[], max: number = LIMITS.messageBlocks, more = ''): Block[] {
  if (blocks.length <= max) return blocks;
  const kept = blocks.slice(0, max - 1);
  return [...kept, context(`…and ${blocks.length - kept.length} more${more ? `: ${more}` : ''}`)];
}
