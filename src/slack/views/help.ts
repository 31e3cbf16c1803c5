import type { AnyCommand } from '../../core/command.js';
import { SLASH_COMMAND } from '../registry.js';
import type { Message } from './blocks.js';
import { context, esc, fit, section } from './blocks.js';

/**
 * `/number help`, and the answer to anything unknown or malformed: what went wrong (if anything),
 * then what to type.
 */
export function helpMessage(commands: readonly AnyCommand[], problem?: string): Message {
  const lines = commands.map(
    (c) =>
      `\`${SLASH_COMMAND} ${esc(c.usage)}\`\n${esc(c.summary)}${c.effect === 'spend' ? ' _(needs an approver)_' : ''}${c.adminOnly ? ' _(admins only)_' : ''}`,
  );
  const blocks = [
    ...(problem ? [section(`:warning: ${esc(problem)}`)] : []),
    section(`*What you can type*`),
    ...lines.map((line) => section(line)),
    context(
      `Start with \`${SLASH_COMMAND} search 415\`. Approvers approve or deny with the buttons on each request.`,
    ),
  ];
  return {
    text: problem ? `${esc(problem)} Try: ${SLASH_COMMAND} help` : `${SLASH_COMMAND} help`,
    blocks: fit(blocks),
  };
}
