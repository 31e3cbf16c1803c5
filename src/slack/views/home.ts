/** App Home: my numbers and their links, my pending requests, and for approvers what waits for them. */
import type { NumberRecord, PurchaseRequest } from '../../core/types.js';
import { SLASH_COMMAND } from '../registry.js';
import { context, divider, fit, header, section } from './blocks.js';
import type { Block } from './blocks.js';
import { LIMITS } from './limits.js';
import { numberBlocks, requestBlocks } from './lists.js';

export interface HomeData {
  userId: string;
  approver: boolean;
  allowSelfApproval: boolean;
  numbers: NumberRecord[];
  myRequests: PurchaseRequest[];
  /** Pending requests this approver may decide (empty for members). */
  waiting: PurchaseRequest[];
}

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
    blocks.push(...numberBlocks(data.numbers.slice(0, 200)).slice(0, 20));
  }
  blocks.push(divider(), header('Your pending requests'));
  blocks.push(
    ...(data.myRequests.length === 0
      ? [section('None.')]
      : requestBlocks(
          data.myRequests,
          { ...viewer, approver: false },
          20,
          `\`${SLASH_COMMAND} requests mine\``,
        )),
  );
  if (data.approver) {
    blocks.push(divider(), header('Waiting for you'));
    const room = LIMITS.viewBlocks - blocks.length - 2;
    blocks.push(
      ...(data.waiting.length === 0
        ? [section('Nothing is waiting for an approver.')]
        : requestBlocks(data.waiting, viewer, room, `\`${SLASH_COMMAND} requests\``)),
    );
  }
  blocks.push(context(`Type \`${SLASH_COMMAND} help\` anywhere for everything you can do.`));
  return { type: 'home', blocks: fit(blocks, LIMITS.viewBlocks) };
}
