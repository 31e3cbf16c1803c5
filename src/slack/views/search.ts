import { emptySearchHint, poolSentence, type SearchResult } from '../../core/commands/search.js';
import { formatMoney } from '../../core/money.js';
import { formatNumber } from '../../core/phone.js';
import { ACTIONS, SLASH_COMMAND } from '../registry.js';
import type { Message } from './blocks.js';
import { button, context, esc, fit, section, slackDate } from './blocks.js';
import { SANDBOX_NOTE, carrierLabel, phone, place, price } from './common.js';
import { LIMITS } from './limits.js';

/**
 * Search results: one line per number (number, place, carrier, monthly and upfront price) with a
 * Request button whose confirm dialog names the price. The button carries only the quote id: the
 * price charged is the server's quote, never text from Slack.
 */
export function searchMessage(result: SearchResult): Message {
  // One block per quote (its Request button is the section's accessory), in what the message's
  // other blocks leave: `--limit 50` finds more than fit, and the header says how many are shown.
  const others = 2 + (result.sandbox ? 1 : 0) + result.skipped.length + (result.pool ? 1 : 0);
  const quotes = result.quotes.slice(0, Math.max(1, LIMITS.messageBlocks - others));
  const shown =
    quotes.length < result.quotes.length ? ` (the ${quotes.length} cheapest are shown)` : '';
  const head =
    result.quotes.length === 0
      ? `No numbers available in ${esc(result.described)}. ${esc(emptySearchHint(result.criteria))}`
      : `*${result.quotes.length} number${result.quotes.length === 1 ? '' : 's'} in ${esc(result.described)}*, cheapest first${shown}`;
  // Before the prices: a number the team already pays for costs nothing more.
  const pool = result.pool
    ? [
        section(
          `:bulb: ${esc(poolSentence(result.pool))} \`${SLASH_COMMAND} claim ${result.pool.numbers[0]!.e164}\`${result.pool.more && result.pool.area ? ` (all of them: \`${SLASH_COMMAND} list pool ${result.pool.area}\`)` : ''}`,
        ),
      ]
    : [];
  const blocks = [
    section(head),
    ...pool,
    ...(result.sandbox ? [context(SANDBOX_NOTE)] : []),
    ...quotes.map((q, i) =>
      section(
        `${phone(q.e164)}  ${esc(place(q))}\n${esc(carrierLabel(q.carrier))} · ${esc(price(q))}${q.features.length ? ` · ${esc(q.features.join(', '))}` : ''}`,
        button(`Request`, `${ACTIONS.requestQuote}:${i}`, q.id, {
          style: 'primary',
          confirm: {
            title: 'Request this number?',
            text: `Request ${formatNumber(q.e164)} for ${formatMoney(q.monthlyCost, q.currency)}/month + ${formatMoney(q.upfrontCost, q.currency)} upfront${q.sandbox ? ' (sandbox: pretend)' : ''}? An approver must approve before anything is bought.`,
            confirm: 'Request it',
          },
        }),
      ),
    ),
    ...result.skipped.map((s) => context(`${esc(s.carrier)} left out: ${esc(s.reason)}`)),
    ...(quotes[0]
      ? [
          context(
            `Prices hold until ${slackDate(quotes[0].expiresAt)}. Or type \`${SLASH_COMMAND} buy <number> --reason "…"\`.`,
          ),
        ]
      : []),
  ];
  return {
    text: `${result.quotes.length} numbers in ${esc(result.described)}${result.sandbox ? ' (sandbox carrier)' : ''}`,
    blocks: fit(blocks),
  };
}
