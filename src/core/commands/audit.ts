import { z } from 'zod';
import { defineCommand } from '../command.js';
import { CoreError } from '../errors.js';
import { memberOf, seesEveryone } from '../policy.js';
import type { AuditEvent } from '../types.js';
import { toE164, parseE164 } from '../phone.js';

export const audit = defineCommand({
  name: 'audit',
  summary: 'Show the audit trail: who did what, through which surface, at what cost',
  effect: 'read',
  usage: 'audit [<+E.164 | request id>] [--actor U01ALICE] [--limit N]',
  examples: ['audit', 'audit +14155550142', 'audit R-7K3Q9X2M', 'audit --actor U01ALICE'],
  args: [{ name: 'subject' }],
  input: z.object({
    subject: z
      .string()
      .max(40)
      .optional()
      .describe('A number (E.164) or a request id (R-…) to show the history of'),
    actor: z
      .string()
      .max(64)
      .optional()
      .describe('Only events by this member id, or made on their behalf'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(50)
      .describe('How many events (default 50, newest first)'),
  }),
  async run(ctx, input): Promise<{ events: AuditEvent[] }> {
    const { deps, actor } = ctx;
    if (input.actor && input.actor !== memberOf(actor) && !seesEveryone(deps.policy, actor)) {
      throw new CoreError(
        'FORBIDDEN',
        `Members see only their own audit events; approvers and admins see everyone's. Leave out --actor ${input.actor} to see yours.`,
      );
    }
    const subject = input.subject?.trim();
    const filter = {
      limit: input.limit,
      ...(subject && /^R-/i.test(subject) ? { requestId: subject.toUpperCase() } : {}),
      ...(subject && !/^R-/i.test(subject)
        ? { target: parseE164(subject) ? toE164(subject) : subject }
        : {}),
      // Members see their own events, including what their MCP tokens did for them; approvers
      // and admins see everyone's (`--actor` takes a member's in the same sense).
      ...(seesEveryone(deps.policy, actor)
        ? input.actor
          ? { actor: input.actor }
          : {}
        : { actor: actor.id }),
    };
    return { events: await deps.store.listAudit(filter) };
  },
});
