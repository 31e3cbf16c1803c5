/**
 * `provision <business phone | area code> [retell:<agent>|vapi:<assistant>]`: a number near a
 * business, bought with approval as usual and linked to the agent once bought (prior-systems/4).
 * The search widens step by step: the business phone's area code, then the same state or
 * province, then the whole country; the answer says which step found the number.
 *
 * `provision <+E.164> <agent> --existing` is the other path: a number the carrier account already
 * owns is verified there, imported if no sync has recorded it, claimed and linked. Nothing is bought.
 */
import { z } from 'zod';
import { lookupAreaCode } from '../area-codes.js';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../command.js';
import { CoreError } from '../errors.js';
import { findOrImport } from '../importing.js';
import { linkToAgent, resolveAgent } from '../linking.js';
import { memberCapRefusal, assertMayManage, memberOf } from '../policy.js';
import { nanpAreaCode, parseE164 } from '../phone.js';
import type { SearchCriteria } from '../ports.js';
import type { NumberRecord, ProvisionFallback, Quote } from '../types.js';
import {
  AgentArg,
  CarrierArg,
  CountryArg,
  FeaturesArg,
  NumberTypeArg,
  ReasonArg,
} from '../schemas.js';
import type { BuyResult } from './buy.js';
import { requestPurchase } from './buy.js';
import { makeQuotes, pickCarriers, searchCarriers, toCriteria } from './search.js';

export const provisionInput = z.object({
  target: z
    .string()
    .min(1)
    .describe(
      'The business phone number, e.g. +14155550123 (a number is searched in its area code, then its state or province, then its country), or an area code such as 415. With existing=true: a number the carrier account already owns',
    ),
  agent: AgentArg.optional().describe(
    'Voice agent to link the number to once it is bought: retell:<agent id> or vapi:<assistant id>',
  ),
  existing: z
    .boolean()
    .default(false)
    .describe(
      'The target is a number the carrier account already owns: verify it there, import it, claim it and link it. Nothing is bought',
    ),
  reason: ReasonArg.optional(),
  type: NumberTypeArg,
  features: FeaturesArg,
  country: CountryArg.optional(),
  carrier: CarrierArg.optional(),
});

type ProvisionInput = z.output<typeof provisionInput>;

export interface SearchStep {
  fallback: ProvisionFallback;
  /** What was searched, for people: "area code 650 (Palo Alto, CA)", "CA, US", "US". */
  where: string;
  found: number;
  /** Why the step was not tried, when it was not. */
  skipped?: string;
}

export interface ProvisionPurchase extends BuyResult {
  mode: 'purchase';
  areaCode: string;
  fallback: ProvisionFallback;
  steps: SearchStep[];
  agent: string | null;
}

export interface ProvisionExisting {
  mode: 'existing';
  number: NumberRecord;
  imported: boolean;
  claimed: boolean;
  linked: boolean;
  agent: string | null;
}

export type ProvisionResult = ProvisionPurchase | ProvisionExisting;

/** The area code to start from: three digits as given, or the business phone's (NANP only). */
function startingAreaCode(target: string): string {
  const text = target.trim();
  if (/^\d{3}$/.test(text)) return text;
  const e164 = parseE164(text);
  if (!e164) {
    throw new CoreError(
      'INVALID_INPUT',
      `"${target}" is neither a phone number nor an area code. Usage: provision <business phone | area code> [retell:<agent>|vapi:<assistant>], e.g. provision +14155550123 retell:agent_0123`,
    );
  }
  const code = nanpAreaCode(e164);
  if (!code) {
    throw new CoreError(
      'INVALID_INPUT',
      `${e164} is not a US or Canadian number, so it has no area code to search. Give an area code instead: provision 415`,
    );
  }
  return code;
}

async function findQuotes(
  ctx: CommandContext,
  input: ProvisionInput,
  areaCode: string,
): Promise<{ quotes: Quote[]; fallback: ProvisionFallback; steps: SearchStep[] }> {
  const carriers = pickCarriers(ctx, input.carrier);
  const { criteria: first, described } = toCriteria({
    query: areaCode,
    type: input.type,
    features: input.features,
    limit: 10,
    ...(input.country ? { country: input.country } : {}),
  });
  const place = lookupAreaCode(areaCode);
  const country = first.country;
  const base = {
    country,
    numberType: first.numberType,
    features: first.features,
    limit: 10,
  } satisfies SearchCriteria;
  const plan: Array<{
    fallback: ProvisionFallback;
    where: string;
    criteria: SearchCriteria | null;
    skipped?: string;
  }> = [
    { fallback: 'area-code', where: described, criteria: first },
    place && first.numberType !== 'toll-free'
      ? {
          fallback: 'region',
          where: `${place.region}, ${country}`,
          criteria: { ...base, region: place.region },
        }
      : {
          fallback: 'region',
          where: 'the same region',
          criteria: null,
          skipped:
            first.numberType === 'toll-free'
              ? 'toll-free numbers have no region'
              : `area code ${areaCode} is not in Switchboard's list, so its region is unknown`,
        },
    { fallback: 'country', where: country, criteria: base },
  ];
  const steps: SearchStep[] = [];
  const failures = new Set<string>();
  for (const step of plan) {
    if (!step.criteria) {
      steps.push({
        fallback: step.fallback,
        where: step.where,
        found: 0,
        skipped: step.skipped ?? '',
      });
      continue;
    }
    const { offers, skipped } = await searchCarriers(ctx, carriers, step.criteria);
    for (const s of skipped) failures.add(`${s.carrier}: ${s.reason}`);
    steps.push({ fallback: step.fallback, where: step.where, found: offers.length });
    if (offers.length > 0) {
      return { quotes: await makeQuotes(ctx, offers), fallback: step.fallback, steps };
    }
  }
  if (failures.size > 0 && failures.size >= carriers.length) {
    throw new CoreError(
      'UNAVAILABLE',
      `No carrier answered the search (${[...failures].join('; ')}). Nothing was requested; try again.`,
    );
  }
  throw new CoreError(
    'NOT_FOUND',
    `No ${first.numberType} numbers are available in area code ${areaCode}, ${place ? `${place.region}, ` : ''}or anywhere in ${country} right now. Nothing was requested.`,
  );
}

async function provisionExisting(
  ctx: CommandContext,
  input: ProvisionInput,
): Promise<ProvisionExisting> {
  const { deps, actor } = ctx;
  const e164 = parseE164(input.target);
  if (!e164) {
    throw new CoreError(
      'INVALID_INPUT',
      `"${input.target}" is not a phone number. With --existing, give the number the carrier account owns, e.g. provision +14155550142 retell:agent_0123 --existing`,
    );
  }
  ctx.note({ target: e164, detail: { existing: true, agent: input.agent ?? null } });
  if (input.agent) await resolveAgent(deps, input.agent);
  const found = await findOrImport(deps, e164);
  if (!found) {
    throw new CoreError(
      'NOT_FOUND',
      `${e164} is not in the carrier account, so it cannot be provisioned as an existing number. To buy a new number near it: provision ${e164}${input.agent ? ` ${input.agent}` : ''}`,
    );
  }
  let number = found.number;
  if (number.status === 'released' || number.status === 'missing') {
    const buyNear = `provision ${e164}${input.agent ? ` ${input.agent}` : ''}`;
    throw new CoreError(
      'CONFLICT',
      number.status === 'released'
        ? `${e164} was released: it left the carrier account and a sync will not bring it back. To buy a new number near it: ${buyNear}`
        : `${e164} is missing: the last sync did not find it in the carrier account. If it is back there, an admin can run sync and then try again; otherwise buy a new number near it: ${buyNear}`,
    );
  }
  let claimed = false;
  if (number.owner === null) {
    const outcome = await deps.store.claimNumber(
      e164,
      memberOf(actor),
      deps.policy.memberNumberCap,
    );
    if (outcome.status === 'member-cap') throw memberCapRefusal(outcome.count, outcome.cap);
    if (outcome.status === 'not-found')
      throw new CoreError('CONFLICT', `${e164} changed while provisioning it. Try again.`);
    number = outcome.number;
    claimed = outcome.status === 'claimed';
  } else {
    assertMayManage(deps.policy, actor, number, 'provision');
  }
  let linked = false;
  if (input.agent) {
    const outcome = await linkToAgent(deps, number, input.agent);
    number = outcome.number;
    linked = true;
  }
  ctx.note({
    detail: { existing: true, imported: found.imported, claimed, agent: input.agent ?? null },
  });
  return {
    mode: 'existing',
    number,
    imported: found.imported,
    claimed,
    linked,
    agent: input.agent ?? null,
  };
}

export const provision = defineCommand({
  name: 'provision',
  summary:
    'Get a number near a business and link it to a voice agent: search, request (approval as usual), link once bought',
  effect: 'spend',
  usage:
    'provision <business phone | area code> [retell:<agent>|vapi:<assistant>] [--reason "…"] [--type local|toll-free|mobile] [--carrier telnyx|twilio] | provision <+E.164> <agent> --existing',
  examples: [
    'provision +14155550123 retell:agent_sandbox_support --reason "Acme front desk"',
    'provision 650 vapi:asst_sandbox_sales',
    'provision +14155550142 retell:agent_sandbox_support --existing',
  ],
  args: [
    { name: 'target', required: true, says: "the business's phone number or an area code" },
    { name: 'agent' },
  ],
  input: provisionInput,
  async run(ctx, input): Promise<ProvisionResult> {
    if (input.existing) return provisionExisting(ctx, input);
    const areaCode = startingAreaCode(input.target);
    ctx.note({ target: input.target, detail: { areaCode, agent: input.agent ?? null } });
    // The agent must exist before anyone is asked to spend money on a number for it.
    if (input.agent) await resolveAgent(ctx.deps, input.agent);
    const { quotes, fallback, steps } = await findQuotes(ctx, input, areaCode);
    const result = await requestPurchase(ctx, quotes, {
      // Taken before it could be bought: the next number is looked for where this one was.
      areaCodeOf: (quote) =>
        fallback === 'area-code' ? areaCode : (nanpAreaCode(quote.e164) ?? null),
      tryOthers: true,
      reason: input.reason ?? null,
      provision: { fallback, agent: input.agent ?? null },
    });
    ctx.note({ detail: { areaCode, fallback, agent: input.agent ?? null, steps } });
    return { ...result, mode: 'purchase', areaCode, fallback, steps, agent: input.agent ?? null };
  },
});
