import { z } from 'zod';
import { defineCommand } from '../command.js';
import { CoreError } from '../errors.js';
import { assertAdmin } from '../policy.js';
import type { Carrier } from '../ports.js';
import type { CarrierName } from '../types.js';
import { CarrierArg } from '../schemas.js';

export interface CarrierAccount {
  sid: string;
  name: string;
  status: string;
}

export interface AccountsResult {
  carrier: CarrierName;
  sandbox: boolean;
  /** `list`: every account the credentials see; `create`: the one new subaccount. */
  accounts: CarrierAccount[];
  created: CarrierAccount | null;
}

export const accountsInput = z
  .object({
    action: z
      .enum(['list', 'create'])
      .describe('list: show the account and its subaccounts; create: add a subaccount'),
    name: z
      .string()
      .trim()
      .min(1)
      .max(64, 'keep the subaccount name to 64 characters (Twilio’s limit)')
      .optional()
      .describe('Name of the new subaccount (create only)'),
    carrier: CarrierArg.optional().describe(
      'Carrier with subaccounts (Twilio); the first that has them by default',
    ),
  })
  .refine((input) => input.action !== 'create' || input.name !== undefined, {
    message: 'create needs a name, e.g. accounts create "Support line"',
    path: ['name'],
  });

type WithAccounts = Carrier & Required<Pick<Carrier, 'listAccounts' | 'createAccount'>>;

function supportsAccounts(carrier: Carrier | undefined): carrier is WithAccounts {
  return (
    carrier !== undefined &&
    typeof carrier.listAccounts === 'function' &&
    typeof carrier.createAccount === 'function'
  );
}

export const accounts = defineCommand({
  name: 'accounts',
  adminOnly: true,
  summary: 'List or create carrier subaccounts (Twilio), to keep teams’ numbers and bills apart',
  effect: 'write',
  usage: 'accounts <list | create> [name] [--carrier twilio]',
  examples: ['accounts list', 'accounts create "Support line"'],
  args: [
    { name: 'action', required: true, says: 'list or create' },
    { name: 'name', rest: true },
  ],
  input: accountsInput,
  async run(ctx, input): Promise<AccountsResult> {
    assertAdmin(ctx.deps.policy, ctx.actor, `${input.action} carrier subaccounts`);
    ctx.note({
      target: input.action === 'create' ? (input.name ?? null) : 'accounts',
      detail: { action: input.action },
    });
    const candidates = input.carrier
      ? [ctx.deps.carriers[input.carrier]]
      : Object.values(ctx.deps.carriers);
    const carrier = candidates.find(supportsAccounts);
    if (!carrier) {
      throw new CoreError(
        'INVALID_INPUT',
        `${input.carrier ? `${input.carrier} has no subaccounts here` : 'No configured carrier has subaccounts'}. Subaccounts are a Twilio feature: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.`,
      );
    }
    if (input.action === 'list') {
      return {
        carrier: carrier.name,
        sandbox: carrier.sandbox,
        accounts: await carrier.listAccounts(),
        created: null,
      };
    }
    const created = await carrier.createAccount(input.name!);
    ctx.note({ target: created.sid, detail: { action: 'create', name: created.name } });
    return { carrier: carrier.name, sandbox: carrier.sandbox, accounts: [created], created };
  },
});
