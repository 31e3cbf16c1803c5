/**
 * The Store port through Supabase's REST API with `@supabase/supabase-js` (SUPABASE_URL +
 * SUPABASE_SERVICE_ROLE_KEY). Every state change is an `rpc` to the same SQL function in schema
 * `switchboard` that SqlStore calls, so the rules live in one place; every read is the query
 * builder with typed filters whose values travel as parameters (`.eq(column, value)`), never a
 * filter string built from input. Rows go through src/store/rows.ts like SqlStore's.
 *
 * The schema cannot be changed through the REST API: `switchboard migrate` with DATABASE_URL does
 * that, and opening this store checks that every migration this build ships has been applied.
 *
 * supabase-js on Node 20 needs a WebSocket implementation for its (unused) realtime client: `ws`.
 */
import { createClient } from '@supabase/supabase-js';
import type { SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import type {
  ApiToken,
  AuditFilter,
  BeginOutcome,
  ClaimOutcome,
  CompleteOutcome,
  CreateApiTokenOutcome,
  CreateRequestOutcome,
  DecideOutcome,
  FailOutcome,
  ImportOutcome,
  LinkOutcome,
  NewApiToken,
  NewPurchaseRequest,
  NumberFilter,
  NumberTotal,
  OwnedNumber,
  ReleaseOutcome,
  RequestFilter,
  RetargetOutcome,
  RevokeApiTokenOutcome,
  SetLinkOutcome,
  SlackMessageRef,
  Store,
  SyncBatchCounts,
  SyncBeginOutcome,
  SyncRow,
  UnclaimOutcome,
  UnlinkOutcome,
} from '../core/ports.js';
import type {
  AuditEvent,
  AvailableNumber,
  CarrierName,
  Member,
  NumberRecord,
  Platform,
  PurchaseRequest,
  Quote,
  RequestStatus,
  Role,
  SyncRun,
} from '../core/types.js';
import { CoreError } from '../core/errors.js';
import type { Outcome, Row } from './rows.js';
import {
  fromAudit,
  fromBoughtNumber,
  fromOwned,
  fromQuote,
  toAudit,
  toMember,
  toNumber,
  toQuote,
  toNumberTotal,
  toRequest,
  toSyncRun,
  mapOutcome,
  toApiToken,
  toCreateApiTokenOutcome,
  toFinishedSyncRun,
  toFoundApiToken,
  toRevokeApiTokenOutcome,
  toSlackMessageRef,
  toStaleSlackMessage,
  toSyncBatchCounts,
} from './rows.js';
import type { SwitchboardDatabase } from './supabase-schema.js';
import type { RateLimitDecision } from '../core/rate-limit.js';
import { toRateLimitDecision } from './sql-store.js'; // shared rate limits (020)

export const SUPABASE_SCHEMA = 'switchboard';

type Client = SupabaseClient<SwitchboardDatabase, 'switchboard'>;
type Functions = SwitchboardDatabase['switchboard']['Functions'];

interface PostgrestFailure {
  code?: string;
  message?: string;
}

export interface SupabaseStoreOptions {
  url: string;
  serviceRoleKey: string;
  /** Per-request time limit (default 30 s): a hung API must not hang a command. */
  timeoutMs?: number;
  /**
   * supabase-js retries reads (GET) up to 3 times on network errors, 503 and 520, backing off 1, 2
   * and 4 s; never writes. Default true.
   */
  retryReads?: boolean;
  /** For tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const iso = (date: Date) => date.toISOString();
const REQUEST_STATUS = /^[a-z_]+$/;

/**
 * The newest `limit` rows of several pages, each row once (pages of one table overlap when a row
 * matches both filters): how two plain `eq` queries stand in for an `or` filter.
 */
function newestOf<T>(
  pages: T[][],
  keyOf: (row: T) => unknown,
  newerFirst: (a: T, b: T) => number,
  limit: number,
): T[] {
  const byKey = new Map(pages.flat().map((row) => [keyOf(row), row]));
  return [...byKey.values()].sort(newerFirst).slice(0, limit);
}

export class SupabaseStore implements Store {
  readonly kind = 'supabase' as const;
  private readonly client: Client;

  constructor(private readonly options: SupabaseStoreOptions) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const baseFetch = options.fetch ?? fetch;
    this.client = createClient<SwitchboardDatabase, 'switchboard'>(
      options.url,
      options.serviceRoleKey,
      {
        db: { schema: SUPABASE_SCHEMA, retry: options.retryReads ?? true },
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
        realtime: { transport: ws as never },
        global: {
          fetch: (input, init) =>
            baseFetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }),
          headers: { 'x-client-info': 'switchboard' },
        },
      },
    );
  }

  async close(): Promise<void> {
    await this.client.removeAllChannels();
  }

  /** The migrations applied to the database behind the API (`schema_migrations`). */
  async appliedMigrations(): Promise<string[]> {
    const { data, error, status } = await this.client.from('schema_migrations').select('name');
    if (error) throw this.translate(error, status, 'schema_migrations');
    return data.map((row) => row.name);
  }

  /** One SQL function through `rpc`, with its named arguments. */
  private async rpc<K extends keyof Functions>(
    name: K,
    args: Functions[K]['Args'],
  ): Promise<unknown> {
    const { data, error, status } = await this.client.rpc(name, args as never);
    if (error) throw this.translate(error, status, name);
    return data;
  }

  private async outcome<K extends keyof Functions>(
    name: K,
    args: Functions[K]['Args'],
  ): Promise<Outcome> {
    return (await this.rpc(name, args)) as Outcome;
  }

  /** Rows of a read, or the translated error. */
  private rows(
    result: { data: unknown; error: PostgrestFailure | null; status: number },
    where: string,
  ): Row[] {
    if (result.error) throw this.translate(result.error, result.status, where);
    return (result.data ?? []) as Row[];
  }

  // --- Leases (issue 7) ------------------------------------------------------------------------

  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const got = await this.rpc('try_lease', {
      p_name: name,
      p_holder: holder,
      p_ttl_ms: Math.ceil(ttlMs),
    });
    return got === true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.rpc('release_lease', { p_name: name, p_holder: holder });
  }

  // --- Shared rate limits (migration 020) ------------------------------------------------------

  async rateTake(key: string, perMinute: number, burst: number): Promise<RateLimitDecision> {
    const answer = await this.rpc('rate_take', {
      p_key: key,
      p_per_minute: perMinute,
      p_burst: burst,
    });
    return toRateLimitDecision(answer);
  }

  async rateForget(idleMs: number): Promise<number> {
    return Number((await this.rpc('rate_forget', { p_idle_ms: idleMs })) ?? 0);
  }

  // --- Members ---------------------------------------------------------------------------------

  async touchMember(id: string, displayName?: string): Promise<void> {
    await this.rpc('touch_member', { p_id: id, p_display_name: displayName ?? null });
  }

  async getMember(id: string): Promise<Member | null> {
    const result = await this.client.from('members').select('*').eq('id', id).limit(1);
    return this.rows(result, 'members').map(toMember)[0] ?? null;
  }

  async setMemberRoles(id: string, roles: Role[]): Promise<Member> {
    const outcome = await this.outcome('set_member_roles', { p_id: id, p_roles: roles });
    return toMember(outcome.member as Row);
  }

  // --- Quotes and requests ---------------------------------------------------------------------

  async saveQuotes(quotes: Quote[]): Promise<void> {
    await this.rpc('save_quotes', { p_quotes: quotes.map(fromQuote) });
  }

  async getQuote(id: string): Promise<Quote | null> {
    const result = await this.client.from('quotes').select('*').eq('id', id).limit(1);
    return this.rows(result, 'quotes').map(toQuote)[0] ?? null;
  }

  async findQuote(e164: string, now: Date): Promise<Quote | null> {
    const result = await this.client
      .from('quotes')
      .select('*')
      .eq('e164', e164)
      .gt('expires_at', iso(now))
      .order('created_at', { ascending: false })
      .limit(1);
    return this.rows(result, 'quotes').map(toQuote)[0] ?? null;
  }

  async createPurchaseRequest(input: NewPurchaseRequest): Promise<CreateRequestOutcome> {
    const args = {
      p_id: input.id,
      p_requester: input.requester,
      p_surface: input.surface,
      p_quote_id: input.quoteId,
      p_area_code: input.areaCode,
      p_reason: input.reason,
      p_expires_at: iso(input.expiresAt),
      p_member_cap: input.memberCap,
      p_monthly_budget: input.monthlyBudget,
      p_now: iso(input.now),
      p_on_behalf_of: input.onBehalfOf ?? null,
    };
    const outcome = input.provision
      ? await this.outcome('create_provision_request', {
          ...args,
          p_agent: input.provision.agent,
          p_fallback: input.provision.fallback,
        })
      : await this.outcome('create_purchase_request', args);
    return mapOutcome(outcome) as unknown as CreateRequestOutcome;
  }

  async setRequestHold(id: string, holdRef: string): Promise<void> {
    await this.rpc('set_request_hold', { p_id: id, p_hold_ref: holdRef });
  }

  async decideRequest(
    id: string,
    decider: string,
    approve: boolean,
    note: string | null,
    now: Date,
  ): Promise<DecideOutcome> {
    const outcome = await this.outcome('decide_request', {
      p_id: id,
      p_decider: decider,
      p_approve: approve,
      p_note: note,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as DecideOutcome;
  }

  async beginExecution(id: string, now: Date): Promise<BeginOutcome> {
    const outcome = await this.outcome('begin_execution', { p_id: id, p_now: iso(now) });
    return mapOutcome(outcome) as unknown as BeginOutcome;
  }

  async retargetRequest(id: string, quoteId: string, now: Date): Promise<RetargetOutcome> {
    const outcome = await this.outcome('retarget_request', {
      p_id: id,
      p_quote_id: quoteId,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as RetargetOutcome;
  }

  async setOrderRef(id: string, orderRef: string, now: Date): Promise<void> {
    await this.rpc('set_order_ref', { p_id: id, p_order_ref: orderRef, p_now: iso(now) });
  }

  async completePurchase(
    id: string,
    number: AvailableNumber & { carrierRef: string | null },
    orderRef: string | null,
    now: Date,
  ): Promise<CompleteOutcome> {
    const outcome = await this.outcome('complete_purchase', {
      p_id: id,
      p_number: fromBoughtNumber(number),
      p_order_ref: orderRef,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as CompleteOutcome;
  }

  async failRequest(
    id: string,
    status: 'failed' | 'needs_attention',
    code: string,
    message: string,
    now: Date,
  ): Promise<FailOutcome> {
    const outcome = await this.outcome('fail_request', {
      p_id: id,
      p_status: status,
      p_error_code: code,
      p_error_message: message,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as FailOutcome;
  }

  async expireRequests(now: Date): Promise<PurchaseRequest[]> {
    const rows = (await this.rpc('expire_requests', { p_now: iso(now) })) as Row[] | null;
    return (rows ?? []).map(toRequest);
  }

  async getRequest(id: string): Promise<PurchaseRequest | null> {
    const result = await this.client.from('requests').select('*').eq('id', id).limit(1);
    return this.rows(result, 'requests').map(toRequest)[0] ?? null;
  }

  async listRequests(filter: RequestFilter): Promise<PurchaseRequest[]> {
    const limit = filter.limit ?? 100;
    const page = async (
      column?: 'requester' | 'on_behalf_of',
      member?: string,
    ): Promise<PurchaseRequest[]> => {
      let query = this.client.from('requests').select('*');
      if (filter.statuses) {
        // `.in` quotes values itself; statuses are a closed set, checked here all the same.
        const statuses = filter.statuses.filter((status) => REQUEST_STATUS.test(status));
        query = query.in('status', statuses);
      }
      if (filter.requester !== undefined) query = query.eq('requester', filter.requester);
      if (column && member !== undefined) query = query.eq(column, member);
      if (filter.linkPending) query = query.eq('link_status', 'pending');
      const result = await query.order('created_at', { ascending: false }).limit(limit);
      return this.rows(result, 'requests').map(toRequest);
    };
    if (filter.member === undefined) return page();
    // A member's requests: made by them, or on their behalf. Two plain `eq` pages merged (rather
    // than an `or=` filter, whose values would need PostgREST's quoting): the newest `limit` of
    // the union are among the newest `limit` of each.
    const [made, forThem] = await Promise.all([
      page('requester', filter.member),
      page('on_behalf_of', filter.member),
    ]);
    return newestOf(
      [made, forThem],
      (r) => r.id,
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
      limit,
    );
  }

  // --- Numbers ---------------------------------------------------------------------------------

  async claimNumber(e164: string, member: string, memberCap: number | null): Promise<ClaimOutcome> {
    const outcome = await this.outcome('claim_number', {
      p_e164: e164,
      p_member: member,
      p_member_cap: memberCap,
    });
    return mapOutcome(outcome) as unknown as ClaimOutcome;
  }

  async unclaimNumber(numberId: number, owner: string, now: Date): Promise<UnclaimOutcome> {
    const outcome = await this.outcome('unclaim_number', {
      p_number_id: numberId,
      p_owner: owner,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as UnclaimOutcome;
  }

  async releaseNumber(numberId: number, now: Date): Promise<ReleaseOutcome> {
    const outcome = await this.outcome('release_number', {
      p_number_id: numberId,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as ReleaseOutcome;
  }

  async linkNumber(
    numberId: number,
    platform: Platform,
    agentId: string,
    ref: string | null,
    now: Date,
  ): Promise<LinkOutcome> {
    const outcome = await this.outcome('link_number', {
      p_number_id: numberId,
      p_platform: platform,
      p_agent_id: agentId,
      p_agent_ref: ref,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as LinkOutcome;
  }

  async unlinkNumber(numberId: number, now: Date): Promise<UnlinkOutcome> {
    const outcome = await this.outcome('unlink_number', {
      p_number_id: numberId,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as UnlinkOutcome;
  }

  async getNumber(e164: string): Promise<NumberRecord | null> {
    // The live record, or else the most recently released one (history), as SqlStore orders it.
    const live = await this.client
      .from('numbers')
      .select('*')
      .eq('e164', e164)
      .neq('status', 'released')
      .limit(1);
    const found = this.rows(live, 'numbers').map(toNumber)[0];
    if (found) return found;
    const released = await this.client
      .from('numbers')
      .select('*')
      .eq('e164', e164)
      .order('released_at', { ascending: false, nullsFirst: true })
      .limit(1);
    return this.rows(released, 'numbers').map(toNumber)[0] ?? null;
  }

  async listNumbers(filter: NumberFilter): Promise<NumberRecord[]> {
    const scope = filter.scope ?? 'all';
    const limit = filter.limit ?? 1000;
    type Narrow = (query: ReturnType<typeof this.numbersQuery>) => typeof query;
    const page = async (narrow: Narrow, max: number) => {
      let query = this.numbersQuery();
      if (!filter.includeReleased) query = query.neq('status', 'released');
      if (filter.owner !== undefined) query = query.eq('owner', filter.owner);
      if (scope === 'pool') query = query.eq('status', 'available').is('owner', null);
      if (scope === 'owned') query = query.not('owner', 'is', null);
      // A prefix as a range on e164 (collate "C"): ':' sorts after '9'.
      if (filter.prefix !== undefined)
        query = query.gte('e164', filter.prefix).lt('e164', `${filter.prefix}:`);
      const result = await narrow(query)
        .order('owner', { ascending: true, nullsFirst: true })
        .order('e164', { ascending: true })
        .limit(max);
      return this.rows(result, 'numbers').map(toNumber);
    };
    const after = filter.after;
    if (!after) return page((q) => q, limit);
    // The next page, past (owner, e164) with the pool's numbers first, as two plain filters (no
    // `or=` tree): the rest of the cursor's owner, then the owners after it.
    const sameOwner = await page(
      (q) =>
        (after.owner === null ? q.is('owner', null) : q.eq('owner', after.owner)).gt(
          'e164',
          after.e164,
        ),
      limit,
    );
    if (sameOwner.length >= limit) return sameOwner;
    const laterOwners = await page(
      (q) => (after.owner === null ? q.not('owner', 'is', null) : q.gt('owner', after.owner)),
      limit - sameOwner.length,
    );
    return [...sameOwner, ...laterOwners];
  }

  private numbersQuery() {
    return this.client.from('numbers').select('*');
  }

  // --- Sync ------------------------------------------------------------------------------------

  async syncBegin(
    runId: string,
    carrier: CarrierName,
    actor: string,
    now: Date,
  ): Promise<SyncBeginOutcome> {
    const outcome = await this.outcome('sync_begin', {
      p_run_id: runId,
      p_carrier: carrier,
      p_actor: actor,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as SyncBeginOutcome;
  }

  async syncBatch(runId: string, carrier: CarrierName, rows: SyncRow[]): Promise<SyncBatchCounts> {
    const outcome = await this.outcome('sync_batch', {
      p_run_id: runId,
      p_carrier: carrier,
      p_rows: rows.map(fromOwned),
    });
    return toSyncBatchCounts(runId, outcome);
  }

  async syncFinish(runId: string, now: Date): Promise<SyncRun> {
    const outcome = await this.outcome('sync_finish', { p_run_id: runId, p_now: iso(now) });
    return toFinishedSyncRun(runId, outcome);
  }

  async syncFail(runId: string, error: string, now: Date): Promise<void> {
    await this.rpc('sync_fail', {
      p_run_id: runId,
      p_error: error.slice(0, 1000),
      p_now: iso(now),
    });
  }

  async listSyncRuns(limit: number): Promise<SyncRun[]> {
    const result = await this.client
      .from('sync_runs')
      .select('*')
      .order('started_at', { ascending: false })
      .limit(limit);
    return this.rows(result, 'sync_runs').map(toSyncRun);
  }

  // --- Audit -----------------------------------------------------------------------------------

  async recordAudit(event: AuditEvent): Promise<void> {
    await this.rpc('record_audit', { p_event: fromAudit(event) });
  }

  async listAudit(filter: AuditFilter): Promise<AuditEvent[]> {
    const limit = filter.limit ?? 50;
    const page = async (
      column?: 'actor' | 'detail->>onBehalfOf',
      actor?: string,
    ): Promise<AuditEvent[]> => {
      let query = this.client.from('audit_events').select('*');
      if (column && actor !== undefined) query = query.eq(column, actor);
      if (filter.target !== undefined) query = query.eq('target', filter.target);
      if (filter.requestId !== undefined) query = query.eq('request_id', filter.requestId);
      const result = await query
        .order('at', { ascending: false })
        .order('id', { ascending: false })
        .limit(limit);
      return this.rows(result, 'audit_events').map(toAudit);
    };
    if (filter.actor === undefined) return page();
    // Events by this actor, or made on this member's behalf (AuditFilter.actor): two plain `eq`
    // pages merged, as in listRequests (no `or=` filter, whose values would need PostgREST's
    // quoting); the newest `limit` of the union are among the newest `limit` of each. PostgREST
    // sends `detail->>onBehalfOf=eq.…` as `"detail"->>'onBehalfOf' = …`: index audit_on_behalf.
    const [by, forThem] = await Promise.all([
      page('actor', filter.actor),
      page('detail->>onBehalfOf', filter.actor),
    ]);
    return newestOf(
      [by, forThem],
      (e) => e.id,
      (a, b) => b.at.getTime() - a.at.getTime() || (b.id ?? 0) - (a.id ?? 0),
      limit,
    );
  }

  // --- Provisioning (issue 4) ------------------------------------------------------------------

  async setRequestLink(
    id: string,
    status: 'linked' | 'failed',
    error: string | null,
    now: Date,
  ): Promise<SetLinkOutcome> {
    const outcome = await this.outcome('set_request_link', {
      p_id: id,
      p_status: status,
      p_error: error,
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as SetLinkOutcome;
  }

  async importNumber(carrier: CarrierName, row: OwnedNumber, now: Date): Promise<ImportOutcome> {
    const outcome = await this.outcome('import_number', {
      p_carrier: carrier,
      p_row: fromOwned(row),
      p_now: iso(now),
    });
    return mapOutcome(outcome) as unknown as ImportOutcome;
  }

  // --- API tokens (issue 6) --------------------------------------------------------------------

  async createApiToken(input: NewApiToken): Promise<CreateApiTokenOutcome> {
    const outcome = await this.outcome('create_api_token', {
      p_name: input.name,
      p_role: input.role,
      p_token_hash: input.tokenHash,
      p_created_by: input.createdBy,
      p_now: iso(input.now),
      p_owner: input.owner ?? null,
    });
    return toCreateApiTokenOutcome(outcome);
  }

  async listApiTokens(): Promise<ApiToken[]> {
    // Never the hash: the columns are named.
    const result = await this.client
      .from('api_tokens')
      .select('id,name,role,owner,created_by,created_at,revoked_at,last_used_at')
      .order('created_at', { ascending: true })
      .order('id', { ascending: true });
    return this.rows(result, 'api_tokens').map(toApiToken);
  }

  async revokeApiToken(name: string, now: Date): Promise<RevokeApiTokenOutcome> {
    const outcome = await this.outcome('revoke_api_token', { p_name: name, p_now: iso(now) });
    return toRevokeApiTokenOutcome(outcome);
  }

  async findApiTokenByHash(tokenHash: string): Promise<ApiToken | null> {
    const outcome = await this.outcome('find_api_token', { p_token_hash: tokenHash });
    return toFoundApiToken(outcome);
  }

  async touchApiToken(id: number, now: Date): Promise<void> {
    await this.rpc('touch_api_token', { p_id: id, p_now: iso(now) });
  }

  // --- Slack message refs (issue 5) ------------------------------------------------------------

  async saveSlackMessage(ref: SlackMessageRef): Promise<void> {
    await this.rpc('save_slack_message', {
      p_request_id: ref.requestId,
      p_channel: ref.channel,
      p_ts: ref.ts,
      p_status: ref.renderedStatus,
    });
  }

  async listSlackMessages(requestId: string): Promise<SlackMessageRef[]> {
    const rows = (await this.rpc('list_slack_messages', { p_request_id: requestId })) as
      Row[] | null;
    return (rows ?? []).map(toSlackMessageRef);
  }

  async claimSlackMessage(
    channel: string,
    ts: string,
    from: RequestStatus,
    to: RequestStatus,
  ): Promise<boolean> {
    const moved = await this.rpc('claim_slack_message', {
      p_channel: channel,
      p_ts: ts,
      p_from: from,
      p_to: to,
    });
    return moved === true;
  }

  async numberTotals(
    filter: Pick<NumberFilter, 'owner' | 'scope' | 'prefix'>,
  ): Promise<NumberTotal[]> {
    const scope = { p_owner: filter.owner ?? null, p_scope: filter.scope ?? 'all' };
    const rows = (
      filter.prefix === undefined
        ? await this.rpc('number_totals', scope)
        : await this.rpc('number_totals_in', { ...scope, p_prefix: filter.prefix })
    ) as Row[] | null;
    return (rows ?? []).map(toNumberTotal);
  }

  async claimSlackAnnouncement(requestId: string): Promise<boolean> {
    return (await this.rpc('claim_slack_announcement', { p_request_id: requestId })) === true;
  }

  async releaseSlackAnnouncement(requestId: string): Promise<void> {
    await this.rpc('release_slack_announcement', { p_request_id: requestId });
  }

  async listUnannouncedRequests(now: Date, limit: number): Promise<PurchaseRequest[]> {
    const rows = (await this.rpc('list_unannounced_requests', {
      p_now: now.toISOString(),
      p_limit: limit,
    })) as Row[] | null;
    return (rows ?? []).map(toRequest);
  }

  async listUnnoticedOutcomes(since: Date, limit: number): Promise<PurchaseRequest[]> {
    const rows = (await this.rpc('list_unnoticed_outcomes', {
      p_since: since.toISOString(),
      p_limit: limit,
    })) as Row[] | null;
    return (rows ?? []).map(toRequest);
  }

  async claimSlackNotice(requestId: string, status: RequestStatus): Promise<boolean> {
    return (
      (await this.rpc('claim_slack_notice', { p_request_id: requestId, p_status: status })) === true
    );
  }

  async listStaleSlackMessages(
    limit: number,
  ): Promise<Array<SlackMessageRef & { request: PurchaseRequest }>> {
    const rows = (await this.rpc('list_stale_slack_messages', { p_limit: limit })) as Row[] | null;
    return (rows ?? []).map(toStaleSlackMessage);
  }

  // --- Errors ----------------------------------------------------------------------------------

  /** PostgREST and network errors become CoreErrors that name the fix; never the key. */
  private translate(error: PostgrestFailure, status: number, where: string): CoreError {
    const code = error.code ?? '';
    const message = error.message ?? 'unknown error';
    const host = safeHost(this.options.url);
    if (status === 0) {
      return new CoreError(
        'UNAVAILABLE',
        `Supabase is unreachable at ${host} (${message}). Check SUPABASE_URL and the network.`,
        { cause: error },
      );
    }
    if (code === 'PGRST106' || (status === 406 && /schema/i.test(message))) {
      return new CoreError(
        'UNAVAILABLE',
        `Supabase's API does not expose the schema "${SUPABASE_SCHEMA}". In the Supabase dashboard open Project Settings → Data API → Exposed schemas and add ${SUPABASE_SCHEMA}.`,
        { cause: error },
      );
    }
    if (['PGRST202', 'PGRST205', '42P01', '42883', '3F000'].includes(code)) {
      return new CoreError(
        'UNAVAILABLE',
        `The Supabase database lacks part of Switchboard's schema (${where}). Run switchboard migrate with DATABASE_URL set to the project's connection string.`,
        { cause: error },
      );
    }
    if (status === 401 || code === 'PGRST301' || code === 'PGRST302' || code === '42501') {
      return new CoreError(
        'UNAVAILABLE',
        `Supabase refused the request (${where}: ${message}). SUPABASE_SERVICE_ROLE_KEY must be the project's service_role (secret) key, not the anon key; if it is, run switchboard migrate with DATABASE_URL to restore the grants.`,
        { cause: error },
      );
    }
    if (code === '23505') {
      return new CoreError(
        'CONFLICT',
        'That was changed by someone else at the same moment. Try again.',
        { cause: error },
      );
    }
    if (code === 'PGRST002' || status === 503 || status === 520) {
      return new CoreError(
        'UNAVAILABLE',
        `Supabase's API cannot reach its database right now (${where}). Try again shortly; check the project's status in the Supabase dashboard.`,
        { cause: error },
      );
    }
    return new CoreError('INTERNAL', `Supabase error in ${where} (${code || status}).`, {
      cause: error,
    });
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'SUPABASE_URL';
  }
}

/**
 * Opens the store and checks the database behind the API has every migration this build ships;
 * the REST API cannot apply them, so a missing one is an error that says how to apply it.
 */
export async function openSupabaseStore(
  options: SupabaseStoreOptions & { migrations?: string[] },
): Promise<SupabaseStore> {
  const store = new SupabaseStore(options);
  let expected = options.migrations;
  if (!expected) {
    const { loadMigrations } = await import('./migrate.js');
    expected = loadMigrations().map((migration) => migration.name);
  }
  const applied = new Set(await store.appliedMigrations());
  const missing = expected.filter((name) => !applied.has(name));
  if (missing.length > 0) {
    throw new CoreError(
      'UNAVAILABLE',
      `The Supabase database is missing ${missing.join(', ')}. Run switchboard migrate with DATABASE_URL set to the project's connection string (Project Settings → Database), then try again.`,
    );
  }
  return store;
}
