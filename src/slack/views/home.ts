/** App Home: my numbers and their links, my pending requests, and for approvers what waits for them. */
import type { NumberRecord, PurchaseRequest } from '../../core/types.js';
import { SLASH_COMMAND } from '../registry.js';
import { context, divider, fit, header, section } from './blocks.js';
import type { Block } from './blocks.js';
import { LIMITS } from './limits.js';
import { numberBlocks, requestBlocks } from './lists.js';
import { formatCount } from '../../core/counts.js';

export interface HomeData {
  userId: string;
  approver: boolean;
  allowSelfApproval: boolean;
  /** The viewer's numbers, the first page of them. */
  numbers: NumberRecord[];
  /** How many numbers the viewer has in all (more than `numbers` when they have many). */
  numbersTotal: number;
  myRequests: PurchaseRequest[];
  /** The store holds more of the viewer's pending requests than `myRequests`. */
  myRequestsBeyond: boolean;
  /** Pending requests this approver may decide (empty for members). */
  waiting: PurchaseRequest[];
  /** The store holds more pending requests than `waiting`. */
  waitingBeyond: boolean;
}

/** Numbers App Home lists: 20 sections of ten. */
export const HOME_NUMBERS = 200;

export function homeView(data: HomeData): Record<string, unknown> {
  const viewer = {
    id: data.userId,
    approver: data.approver,
    allowSelfApproval: data.allowSelfApproval,
  };
  const blocks: Block[] = [header('Your numbers')];
  if (data.numbers.length === 0) {
    blocks.push(
      section(
        `You have no numbers yet. Try \`${SLASH_COMMAND} search 415\`, or claim one from \`${SLASH_COMMAND} list pool\`.`,
      ),
    );
  } else {
    const shown = data.numbers.slice(0, HOME_NUMBERS);
    blocks.push(...numberBlocks(shown));
    if (data.numbersTotal > shown.length)
      blocks.push(
        context(
          `…and ${formatCount(data.numbersTotal - shown.length)} more: \`${SLASH_COMMAND} list mine --after ${shown[shown.length - 1]!.e164}\``,
        ),
      );
  }
  blocks.push(divider(), header('Your pending requests'));
  blocks.push(
    ...(data.myRequests.length === 0 && !data.myRequestsBeyond
      ? [section('None.')]
      : requestBlocks(
          data.myRequests,
          { ...viewer, approver: false },
          20,
          `\`${SLASH_COMMAND} requests mine\``,
          data.myRequestsBeyond,
        )),
  );
  if (data.approver) {
    blocks.push(divider(), header('Waiting for you'));
    const room = LIMITS.viewBlocks - blocks.length - 2;
    blocks.push(
      ...(data.waiting.length === 0 && !data.waitingBeyond
        ? [section('Nothing is waiting for an approver.')]
        : requestBlocks(
            data.waiting,
            viewer,
            room,
            `\`${SLASH_COMMAND} requests\``,
            data.waitingBeyond,
          )),
    );
  }
  blocks.push(context(`Type \`${SLASH_COMMAND} help\` anywhere for everything you can do.`));
  return { type: 'home', blocks: fit(blocks, LIMITS.viewBlocks) };
}
