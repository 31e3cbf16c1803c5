import { z } from 'zod';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../command.js';
import { CoreError } from '../errors.js';
import {
  findAreaCodesByCity,
  isTollFreeCode,
  isWellFormedAreaCode,
  lookupAreaCode,
} from '../area-codes.js';
import type { Carrier, SearchCriteria, Store } from '../ports.js';
import type { AvailableNumber, CarrierName, NumberRecord, Quote } from '../types.js';
import { CarrierArg, CountryArg, FeaturesArg, LimitArg, NumberTypeArg } from '../schemas.js';
import { joinSentences, withoutFullStop } from '../sentences.js';

export const searchInput = z.object({
  query: z
    .string()
    .optional()
    .describe(
      'An area code (415), a toll-free prefix (800), or a city ("San Francisco", "Portland, OR")',
    ),
  contains: z
    .string()
    .regex(/^[0-9*]{2,10}$/, 'give 2 to 10 digits, e.g. 777')
    .optional()
    .describe('Digits the number must contain, e.g. 777'),
  region: z.string().max(40).optional().describe('State or province code, e.g. CA or ON'),
  type: NumberTypeArg,
  features: FeaturesArg,
  country: CountryArg.optional(),
  carrier: CarrierArg.optional(),
  limit: LimitArg(10, 50),
});
export type SearchInput = z.output<typeof searchInput>;

export interface SearchResult {
  criteria: SearchCriteria;
  /** Where the search looked, in words: "area code 415 (San Francisco, CA)". */
  described: string;
  quotes: Quote[];
  carriers: CarrierName[];
  /** Carriers left out because they failed or timed out; the search went on without them. */
  skipped: Array<{ carrier: CarrierName; reason: string }>;
  sandbox: boolean;
  /** Numbers the team already pays for in the same area code(s), free to claim instead. */
  pool: PoolMatch | null;
}

/** Pool numbers that would do instead of buying: a few to name, and whether there are more. */
export interface PoolMatch {
  /** The area codes looked in, in words: "area code 415", "area codes 503, 971". */
  where: string;
  /** The one area code looked in (for `list pool 415`); null when a city gave several. */
  area: string | null;
  numbers: NumberRecord[];
  more: boolean;
}

/** How many pool numbers a search names. */
const POOL_SHOWN = 3;

/** Turns the user's query into carrier search criteria, or a clear INVALID_INPUT. */
export function toCriteria(input: SearchInput): { criteria: SearchCriteria; described: string } {
  const base = {
    numberType: input.type,
    features: input.features,
    limit: input.limit,
    ...(input.contains ? { contains: input.contains } : {}),
    ...(input.region ? { region: input.region.toUpperCase() } : {}),
  };
  const query = input.query?.trim() ?? '';
  if (query === '') {
    if (!input.contains && !input.region && input.type !== 'toll-free') {
      throw new CoreError(
        'INVALID_INPUT',
        'Say where to search: an area code (search 415), a city (search "San Francisco"), --region CA or --contains 777.',
      );
    }
    return {
      criteria: { ...base, country: input.country ?? 'US' },
      described: describeFilters(base, input.country ?? 'US'),
    };
  }
  if (/^\+?\d[\d\s()-]*$/.test(query)) {
    const digits = query.replace(/\D/g, '');
    if (digits.length !== 3 || !isWellFormedAreaCode(digits)) {
      throw new CoreError(
        'INVALID_INPUT',
        `"${query}" is not an area code: give three digits, e.g. search 415, or a city, e.g. search "San Francisco".`,
      );
    }
    if (isTollFreeCode(digits)) {
      return {
        criteria: {
          ...base,
          country: input.country ?? 'US',
          numberType: 'toll-free',
          areaCode: digits,
        },
        described: `toll-free ${digits}`,
      };
    }
    const known = lookupAreaCode(digits);
    const country = input.country ?? known?.country ?? 'US';
    return {
      criteria: { ...base, country, areaCode: digits },
      described: known
        ? `area code ${digits} (${known.city}, ${known.region})`
        : `area code ${digits}`,
    };
  }
  const matches = findAreaCodesByCity(query);
  const first = matches[0];
  if (!first) {
    throw new CoreError(
      'INVALID_INPUT',
      `No city called "${query}" is known. Try an area code (search 415) or "City, ST" (search "Portland, OR").`,
    );
  }
  return {
    criteria: {
      ...base,
      country: input.country ?? first.country,
      locality: first.city,
      region: first.region,
    },
    described: `${first.city}, ${first.region} (area codes ${matches.map((m) => m.code).join(', ')})`,
  };
}

/** How a front names what can be loosened: its own flags or argument names. */
export interface SearchHintWords {
  /** Added after "a nearby area code" and "a nearby city": where to type it. */
  where: string;
  contains: string;
  region: string;
  features: string;
  local: string;
}

/** The CLI's and Slack's words: their flags. */
const FLAG_WORDS: SearchHintWords = {
  where: '',
  contains: '--contains',
  region: '--region',
  features: '--features',
  local: '--type local',
};

/**
 * What to loosen when a search found nothing, from what narrowed it: "Try a nearby area code, a
 * shorter --contains pattern or fewer --features." Each front passes its own words (MCP: its
 * argument names); flags read the same in the CLI and in Slack.
 */
export function emptySearchHint(
  criteria: SearchCriteria,
  words: SearchHintWords = FLAG_WORDS,
): string {
  const tries: string[] = [];
  if (criteria.areaCode)
    tries.push(
      `a nearby ${criteria.numberType === 'toll-free' ? 'toll-free prefix' : 'area code'}${words.where}`,
    );
  else if (criteria.locality) tries.push(`a nearby city or its area codes${words.where}`);
  if (criteria.contains) tries.push(`a shorter ${words.contains} pattern`);
  if (criteria.region && !criteria.locality) tries.push(`another ${words.region}`);
  if (criteria.features.length > 0) tries.push(`fewer ${words.features}`);
  if (criteria.numberType === 'mobile') tries.push(words.local);
  if (tries.length === 0) return `Try another area code or city${words.where}.`;
  const last = tries.pop()!;
  return `Try ${tries.length ? `${tries.join(', ')} or ${last}` : last}.`;
}

function describeFilters(base: { contains?: string; region?: string }, country: string): string {
  const parts = [country];
  if (base.region) parts.push(`region ${base.region}`);
  if (base.contains) parts.push(`containing ${base.contains}`);
  return parts.join(', ');
}

/** The carriers a command may use: the one named, or every configured one. */
export function pickCarriers(ctx: CommandContext, name?: CarrierName): Carrier[] {
  const configured = Object.values(ctx.deps.carriers).filter((c): c is Carrier => c !== undefined);
  if (name) {
    const carrier = ctx.deps.carriers[name];
    if (!carrier) {
      const hint =
        name === 'telnyx'
          ? 'set TELNYX_API_KEY'
          : name === 'twilio'
            ? 'set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN'
            : 'unset the carrier keys to use the sandbox';
      throw new CoreError(
        'INVALID_INPUT',
        `${name} is not configured (${hint}). Configured: ${configured.map((c) => c.name).join(', ') || 'none'}.`,
      );
    }
    return [carrier];
  }
  if (configured.length === 0) {
    throw new CoreError(
      'UNAVAILABLE',
      'No carrier is configured. Set TELNYX_API_KEY or TWILIO_ACCOUNT_SID, or leave both unset for the sandbox.',
    );
  }
  return configured;
}

const SEARCH_TIMEOUT_MS = 15_000;

/** Searches every chosen carrier in parallel; one failing or timing out does not fail the search. */
export async function searchCarriers(
  ctx: CommandContext,
  carriers: Carrier[],
  criteria: SearchCriteria,
): Promise<{ offers: AvailableNumber[]; skipped: SearchResult['skipped'] }> {
  const settled = await Promise.allSettled(
    carriers.map((carrier) => {
      const signal = AbortSignal.timeout(SEARCH_TIMEOUT_MS);
      return Promise.race([
        carrier.search(criteria, signal),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () =>
            reject(new CoreError('UNAVAILABLE', `no answer within ${SEARCH_TIMEOUT_MS / 1000} s`)),
          ),
        ),
      ]);
    }),
  );
  const offers: AvailableNumber[] = [];
  const skipped: SearchResult['skipped'] = [];
  settled.forEach((result, index) => {
    const carrier = carriers[index] as Carrier;
    if (result.status === 'fulfilled') offers.push(...result.value);
    else
      skipped.push({
        carrier: carrier.name,
        reason: result.reason instanceof Error ? result.reason.message : String(result.reason),
      });
  });
  if (offers.length === 0 && skipped.length === carriers.length) {
    throw new CoreError(
      'UPSTREAM',
      joinSentences(
        `Every carrier failed: ${skipped.map((s) => `${s.carrier}: ${withoutFullStop(s.reason)}`).join('; ')}`,
        'Try again in a minute.',
      ),
    );
  }
  offers.sort(
    (a, b) =>
      a.monthlyCost - b.monthlyCost ||
      a.upfrontCost - b.upfrontCost ||
      a.e164.localeCompare(b.e164),
  );
  return { offers: offers.slice(0, criteria.limit), skipped };
}

/** Saves offers as server-made quotes: approval binds to these prices, never to user text. */
export async function makeQuotes(ctx: CommandContext, offers: AvailableNumber[]): Promise<Quote[]> {
  const now = ctx.deps.clock.now();
  const expiresAt = new Date(now.getTime() + ctx.deps.policy.quoteTtlMinutes * 60_000);
  const quotes = offers.map((offer) => ({
    ...offer,
    carrierAccount: offer.carrierAccount ?? null,
    id: ctx.deps.ids.quote(),
    sandbox: ctx.deps.carriers[offer.carrier]?.sandbox ?? false,
    createdAt: now,
    expiresAt,
  }));
  if (quotes.length > 0) await ctx.deps.store.saveQuotes(quotes);
  return quotes;
}

/**
 * The pool's available numbers in the searched area code (or the city's area codes) that have the
 * type and features asked for: claiming one costs nothing, buying another costs every month.
 * North American area codes only (the pool is matched by E.164 prefix, +1 and the code).
 */
export async function poolMatch(
  store: Pick<Store, 'listNumbers'>,
  criteria: SearchCriteria,
  query: string | undefined,
): Promise<PoolMatch | null> {
  if (criteria.country !== 'US' && criteria.country !== 'CA') return null;
  const codes = criteria.areaCode
    ? [criteria.areaCode]
    : criteria.locality && query
      ? findAreaCodesByCity(query).map((m) => m.code)
      : [];
  if (codes.length === 0) return null;
  const suits = (n: NumberRecord) =>
    n.numberType === criteria.numberType && criteria.features.every((f) => n.features.includes(f));
  const found: NumberRecord[] = [];
  const looked = codes.slice(0, 8);
  for (const code of looked) {
    // A few beyond what is shown, as some may lack a feature; one more than shown means "and more".
    const numbers = await store.listNumbers({
      scope: 'pool',
      prefix: `+1${code}`,
      limit: 20,
    });
    found.push(...numbers.filter(suits));
    if (found.length > POOL_SHOWN) break;
  }
  if (found.length === 0) return null;
  return {
    where: `${criteria.numberType === 'toll-free' ? 'toll-free' : looked.length === 1 ? 'area code' : 'area codes'} ${looked.join(', ')}`,
    area: looked.length === 1 ? looked[0]! : null,
    numbers: found.slice(0, POOL_SHOWN),
    more: found.length > POOL_SHOWN,
  };
}

/**
 * The pool's numbers that would do instead of a quoted purchase: same type, same North American
 * area code (null for numbers outside +1). Shown to the requester and to the approvers.
 */
export function poolForQuote(
  store: Pick<Store, 'listNumbers'>,
  quote: Pick<Quote, 'e164' | 'country' | 'numberType'>,
): Promise<PoolMatch | null> {
  const country = quote.country === 'US' || quote.country === 'CA' ? quote.country : null;
  if (!country || !quote.e164.startsWith('+1')) return Promise.resolve(null);
  return poolMatch(
    store,
    {
      country,
      areaCode: quote.e164.slice(2, 5),
      numberType: quote.numberType,
      features: [],
      limit: POOL_SHOWN,
    },
    undefined,
  );
}

/** The pool's numbers in words, the same in every front (each adds how to claim one). */
export function poolSentence(pool: PoolMatch): string {
  const [first] = pool.numbers;
  if (pool.numbers.length === 1 && !pool.more)
    return `The pool already has ${first!.e164} in ${pool.where}: claiming it is free and needs no approval.`;
  return `The pool already has numbers in ${pool.where}: ${pool.numbers.map((n) => n.e164).join(', ')}${pool.more ? ' and more' : ''}. Claiming one is free and needs no approval.`;
}

export const search = defineCommand({
  name: 'search',
  summary: 'Search carriers for numbers to buy, with server-made price quotes',
  effect: 'read',
  usage:
    'search <area code | city> [--type local|toll-free|mobile] [--features voice,sms] [--contains 777] [--region CA] [--country US|CA] [--carrier telnyx|twilio] [--limit N]',
  examples: [
    'search 415',
    'search "San Francisco"',
    'search 800 --limit 5',
    'search 604 --features voice,sms',
  ],
  args: [{ name: 'query', rest: true }],
  input: searchInput,
  async run(ctx, input): Promise<SearchResult> {
    const { criteria, described } = toCriteria(input);
    ctx.note({ target: input.query ?? null, detail: { criteria } });
    const carriers = pickCarriers(ctx, input.carrier);
    // The pool is read while the carriers are asked: it adds no wait.
    const [{ offers, skipped }, pool] = await Promise.all([
      searchCarriers(ctx, carriers, criteria),
      poolMatch(ctx.deps.store, criteria, input.query),
    ]);
    const quotes = await makeQuotes(ctx, offers);
    return {
      criteria,
      described,
      quotes,
      carriers: carriers.map((c) => c.name),
      skipped,
      sandbox: carriers.some((c) => c.sandbox),
      pool,
    };
  },
});
