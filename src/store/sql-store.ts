/**
 * The Store port on plain SQL: every state change calls one of the schema's functions, every read
 * is one parameterised SELECT returning jsonb rows. PGlite and PostgreSQL share this class; the
 * Supabase store calls the same functions through `rpc`.
 */
// API tokens (issue 6)
import type {
  ApiToken,
  CreateApiTokenOutcome,
  NewApiToken,
  RevokeApiTokenOutcome,
} from '../core/ports.js';
import type {
  AuditFilter,
  BeginOutcome,
  ClaimOutcome,
  CompleteOutcome,
  CreateRequestOutcome,
  DecideOutcome,
  FailOutcome,
  ImportOutcome,
  LinkOutcome,
  NewPurchaseRequest,
  NumberFilter,
  NumberTotal,
  OwnedNumber,
  ReleaseOutcome,
  RequestFilter,
  RetargetOutcome,
  SetLinkOutcome,
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
  Role,
  SyncRun,
} from '../core/types.js';
import { CoreError } from '../core/errors.js';
import type { RequestStatus } from '../core/types.js';
import type { SlackMessageRef } from '../core/ports.js'; // Slack message refs (issue 5)
import type { SqlExecutor } from './sql.js';
import type { Outcome, Row } from './rows.js';
import {
  fromAudit,
  fromBoughtNumber,
  fromOwned,
  toNumberTotal,
  fromQuote,
  toAudit,
  toMember,
  toNumber,
  toQuote,
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
import type { RateLimitDecision } from '../core/rate-limit.js';

const iso = (date: Date) => date.toISOString();
const json = (value: unknown) => JSON.stringify(value);

/** The row with its null values set to undefined, so that JSON.stringify leaves them out. */
function withoutNulls(row: Row): Row {
  for (const key in row) if (row[key] === null) row[key] = undefined;
  return row;
}

/** switchboard.rate_take's answer (migration 020) as the core's decision; shared with supabase. */
export function toRateLimitDecision(value: unknown): RateLimitDecision {
  const r = value as { ok?: unknown; retry_after_ms?: unknown } | null | undefined;
  if (r?.ok === true) return { ok: true };
  const retryAfterMs = Number(r?.retry_after_ms);
  if (r?.ok === false && Number.isFinite(retryAfterMs) && retryAfterMs >= 0)
    return { ok: false, retryAfterMs };
  throw new CoreError('INTERNAL', 'Database error in rate_take: an answer without a decision.');
}

export class SqlStore implements Store {
  constructor(
    readonly kind: Store['kind'],
    private readonly db: SqlExecutor,
  ) {}

  close(): Promise<void> {
    return this.db.close();
  }

  // --- Leases (issue 7) -------------------------------------------------------------------------

  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const rows = await this.db
      .query<{ r: boolean }>('select switchboard.try_lease($1::text, $2::text, $3::int) as r', [
        name,
        holder,
        Math.ceil(ttlMs),
      ])
      .catch((error: unknown) => {
        throw translate(error, 'try_lease');
      });
    return rows[0]?.r === true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db
      .query('select switchboard.release_lease($1::text, $2::text)', [name, holder])
      .catch((error: unknown) => {
        throw translate(error, 'release_lease');
      });
  }
  // --- end leases -------------------------------------------------------------------------------

  // --- Shared rate limits (migration 020) -------------------------------------------------------

  async rateTake(key: string, perMinute: number, burst: number): Promise<RateLimitDecision> {
    const rows = await this.db
      .query<{ r: unknown }>(
        'select switchboard.rate_take($1::text, $2::float8, $3::float8) as r',
        [key, perMinute, burst],
      )
      .catch((error: unknown) => {
        throw translate(error, 'rate_take');
      });
    return toRateLimitDecision(rows[0]?.r);
  }

  async rateForget(idleMs: number): Promise<number> {
    const rows = await this.db
      .query<{ n: number }>('select switchboard.rate_forget($1::float8) as n', [idleMs])
      .catch((error: unknown) => {
        throw translate(error, 'rate_forget');
      });
    return Number(rows[0]?.n ?? 0);
  }
  // --- end shared rate limits -------------------------------------------------------------------

  // --- API tokens (issue 6) ---------------------------------------------------------------------
  // Only SHA-256 hashes of tokens pass through here; rows come back without the hash.

  async createApiToken(input: NewApiToken): Promise<CreateApiTokenOutcome> {
    const outcome = await this.call(
      'create_api_token',
      ['text', 'text', 'text', 'text', 'timestamptz', 'text'],
      [
        input.name,
        input.role,
        input.tokenHash,
        input.createdBy,
        iso(input.now),
        input.owner ?? null,
      ],
    );
    return toCreateApiTokenOutcome(outcome);
  }

  async listApiTokens(): Promise<ApiToken[]> {
    return this.select(
      `select to_jsonb(t) - 'token_hash' as r from switchboard.api_tokens t order by created_at, id`,
      [],
      toApiToken,
    );
  }

  async revokeApiToken(name: string, now: Date): Promise<RevokeApiTokenOutcome> {
    const outcome = await this.call('revoke_api_token', ['text', 'timestamptz'], [name, iso(now)]);
    return toRevokeApiTokenOutcome(outcome);
  }

  async findApiTokenByHash(tokenHash: string): Promise<ApiToken | null> {
    const outcome = await this.call('find_api_token', ['text'], [tokenHash]);
    return toFoundApiToken(outcome);
  }

  async touchApiToken(id: number, now: Date): Promise<void> {
    await this.call('touch_api_token', ['bigint', 'timestamptz'], [id, iso(now)]);
  }
  // --- end API tokens ---------------------------------------------------------------------------

  /** Calls `switchboard.<name>(…)`; `casts` give each parameter's SQL type. */
  private async call(name: string, casts: string[], params: unknown[]): Promise<Outcome> {
    // jsonb travels as text: postgres.js would JSON-encode a jsonb-typed parameter a second time.
    const args = casts
      .map((cast, i) => (cast === 'jsonb' ? `$${i + 1}::text::jsonb` : `$${i + 1}::${cast}`))
      .join(', ');
    try {
      const rows = await this.db.query<{ r: Outcome }>(
        `select switchboard.${name}(${args}) as r`,
        params,
      );
      return rows[0]?.r as Outcome;
    } catch (error) {
      throw translate(error, name);
    }
  }

  private async select<T>(text: string, params: unknown[], map: (row: Row) => T): Promise<T[]> {
    try {
      const rows = await this.db.query<{ r: Row }>(text, params);
      return rows.map((row) => map(row.r));
    } catch (error) {
      throw translate(error, 'select');
    }
  }

  async touchMember(id: string, displayName?: string): Promise<void> {
    await this.db
      .query('select switchboard.touch_member($1::text, $2::text)', [id, displayName ?? null])
      .catch((error: unknown) => {
        throw translate(error, 'touch_member');
      });
  }

  async getMember(id: string): Promise<Member | null> {
    const rows = await this.select(
      'select to_jsonb(m) as r from switchboard.members m where id = $1',
      [id],
      toMember,
    );
    return rows[0] ?? null;
  }

  async setMemberRoles(id: string, roles: Role[]): Promise<Member> {
    const outcome = await this.db
      .query<{ r: Outcome }>(
        'select switchboard.set_member_roles($1::text, array(select jsonb_array_elements_text($2::text::jsonb))) as r',
        [id, json(roles)],
      )
      .then((rows) => rows[0]?.r as Outcome)
      .catch((error: unknown) => {
        throw translate(error, 'set_member_roles');
      });
    return toMember(outcome.member as Row);
  }

  async saveQuotes(quotes: Quote[]): Promise<void> {
    await this.db
      .query('select switchboard.save_quotes($1::text::jsonb)', [json(quotes.map(fromQuote))])
      .catch((error: unknown) => {
        throw translate(error, 'save_quotes');
      });
  }

  async getQuote(id: string): Promise<Quote | null> {
    const rows = await this.select(
      'select to_jsonb(q) as r from switchboard.quotes q where id = $1',
      [id],
      toQuote,
    );
    return rows[0] ?? null;
  }

  async findQuote(e164: string, now: Date): Promise<Quote | null> {
    const rows = await this.select(
      'select to_jsonb(q) as r from switchboard.quotes q where e164 = $1 and expires_at > $2::timestamptz order by created_at desc limit 1',
      [e164, iso(now)],
      toQuote,
    );
    return rows[0] ?? null;
  }

  async createPurchaseRequest(input: NewPurchaseRequest): Promise<CreateRequestOutcome> {
    const casts = ['text', 'text', 'text', 'text', 'text', 'text', 'timestamptz', 'int', 'numeric'];
    const params: unknown[] = [
      input.id,
      input.requester,
      input.surface,
      input.quoteId,
      input.areaCode,
      input.reason,
      iso(input.expiresAt),
      input.memberCap,
      input.monthlyBudget,
      iso(input.now),
    ];
    const onBehalfOf = input.onBehalfOf ?? null;
    const outcome = input.provision
      ? await this.call(
          'create_provision_request',
          [...casts, 'timestamptz', 'text', 'text', 'text'],
          [...params, input.provision.agent, input.provision.fallback, onBehalfOf],
        )
      : await this.call(
          'create_purchase_request',
          [...casts, 'timestamptz', 'text'],
          [...params, onBehalfOf],
        );
    return mapOutcome(outcome) as unknown as CreateRequestOutcome;
  }

  async setRequestHold(id: string, holdRef: string): Promise<void> {
    await this.call('set_request_hold', ['text', 'text'], [id, holdRef]);
  }

  async decideRequest(
    id: string,
    decider: string,
    approve: boolean,
    note: string | null,
    now: Date,
  ): Promise<DecideOutcome> {
    const outcome = await this.call(
      'decide_request',
      ['text', 'text', 'boolean', 'text', 'timestamptz'],
      [id, decider, approve, note, iso(now)],
    );
    return mapOutcome(outcome) as unknown as DecideOutcome;
  }

  async beginExecution(id: string, now: Date): Promise<BeginOutcome> {
    return mapOutcome(
      await this.call('begin_execution', ['text', 'timestamptz'], [id, iso(now)]),
    ) as unknown as BeginOutcome;
  }

  async retargetRequest(id: string, quoteId: string, now: Date): Promise<RetargetOutcome> {
    return mapOutcome(
      await this.call('retarget_request', ['text', 'text', 'timestamptz'], [id, quoteId, iso(now)]),
    ) as unknown as RetargetOutcome;
  }

  async setOrderRef(id: string, orderRef: string, now: Date): Promise<void> {
    await this.call('set_order_ref', ['text', 'text', 'timestamptz'], [id, orderRef, iso(now)]);
  }

  async completePurchase(
    id: string,
    number: AvailableNumber & { carrierRef: string | null },
    orderRef: string | null,
    now: Date,
  ): Promise<CompleteOutcome> {
    const outcome = await this.call(
      'complete_purchase',
      ['text', 'jsonb', 'text', 'timestamptz'],
      [id, json(fromBoughtNumber(number)), orderRef, iso(now)],
    );
    return mapOutcome(outcome) as unknown as CompleteOutcome;
  }

  async failRequest(
    id: string,
    status: 'failed' | 'needs_attention',
    code: string,
    message: string,
    now: Date,
  ): Promise<FailOutcome> {
    const outcome = await this.call(
      'fail_request',
      ['text', 'text', 'text', 'text', 'timestamptz'],
      [id, status, code, message, iso(now)],
    );
    return mapOutcome(outcome) as unknown as FailOutcome;
  }

  async expireRequests(now: Date): Promise<PurchaseRequest[]> {
    try {
      const rows = await this.db.query<{ r: Row[] }>(
        'select switchboard.expire_requests($1::timestamptz) as r',
        [iso(now)],
      );
      return (rows[0]?.r ?? []).map(toRequest);
    } catch (error) {
      throw translate(error, 'expire_requests');
    }
  }

  async getRequest(id: string): Promise<PurchaseRequest | null> {
    const rows = await this.select(
      'select to_jsonb(r) as r from switchboard.requests r where id = $1',
      [id],
      toRequest,
    );
    return rows[0] ?? null;
  }

  async listRequests(filter: RequestFilter): Promise<PurchaseRequest[]> {
    return this.select(
      // Limit first, JSON after (see listNumbers).
      `select to_jsonb(r) as r from (
         select * from switchboard.requests
         where ($1::text::jsonb is null or status in (select jsonb_array_elements_text($1::text::jsonb))) and ($2::text is null or requester = $2::text)
           and ($4::boolean is not true or link_status = 'pending')
           and ($5::text is null or requester = $5::text or on_behalf_of = $5::text)
         order by created_at desc limit $3::int
       ) r
       order by r.created_at desc`,
      [
        filter.statuses ? json(filter.statuses) : null,
        filter.requester ?? null,
        filter.limit ?? 100,
        filter.linkPending ?? null,
        filter.member ?? null,
      ],
      toRequest,
    );
  }

  async claimNumber(e164: string, member: string, memberCap: number | null): Promise<ClaimOutcome> {
    return mapOutcome(
      await this.call('claim_number', ['text', 'text', 'int'], [e164, member, memberCap]),
    ) as unknown as ClaimOutcome;
  }

  async unclaimNumber(numberId: number, owner: string, now: Date): Promise<UnclaimOutcome> {
    return mapOutcome(
      await this.call(
        'unclaim_number',
        ['bigint', 'text', 'timestamptz'],
        [numberId, owner, iso(now)],
      ),
    ) as unknown as UnclaimOutcome;
  }

  async releaseNumber(numberId: number, now: Date): Promise<ReleaseOutcome> {
    return mapOutcome(
      await this.call('release_number', ['bigint', 'timestamptz'], [numberId, iso(now)]),
    ) as unknown as ReleaseOutcome;
  }

  async linkNumber(
    numberId: number,
    platform: Platform,
    agentId: string,
    ref: string | null,
    now: Date,
  ): Promise<LinkOutcome> {
    return mapOutcome(
      await this.call(
        'link_number',
        ['bigint', 'text', 'text', 'text', 'timestamptz'],
        [numberId, platform, agentId, ref, iso(now)],
      ),
    ) as unknown as LinkOutcome;
  }

  async unlinkNumber(numberId: number, now: Date): Promise<UnlinkOutcome> {
    return mapOutcome(
      await this.call('unlink_number', ['bigint', 'timestamptz'], [numberId, iso(now)]),
    ) as unknown as UnlinkOutcome;
  }

  async getNumber(e164: string): Promise<NumberRecord | null> {
    // The live record, or else the most recently released one (history).
    const rows = await this.select(
      `select to_jsonb(n) as r from switchboard.numbers n where e164 = $1
       order by (status <> 'released') desc, released_at desc nulls first limit 1`,
      [e164],
      toNumber,
    );
    return rows[0] ?? null;
  }

  async listNumbers(filter: NumberFilter): Promise<NumberRecord[]> {
    const scope = filter.scope ?? 'all';
    return this.select(
      // Rows are chosen and cut to the limit first, then turned into JSON: to_jsonb over the
      // whole table before the sort made a 50-row page of 10,000 numbers cost ~200 ms on PGlite.
      `select to_jsonb(n) as r from (
         select * from switchboard.numbers
         where ($1::boolean or status <> 'released')
           and ($2::text is null or owner = $2::text)
           and ($3::text <> 'pool' or (status = 'available' and owner is null))
           and ($3::text <> 'owned' or owner is not null)
           -- The next page: past (owner $6, e164 $5) in the order below, the pool's numbers first.
           and ($5::text is null or case when $6::text is null
                 then owner is not null or e164 > $5::text
                 else owner > $6::text or (owner = $6::text and e164 > $5::text) end)
           -- A prefix as a range on e164 (collate "C", so one index range): ':' sorts after '9'.
           and ($7::text is null or (e164 >= $7::text and e164 < ($7::text || ':')))
         order by owner nulls first, e164 limit $4::int
       ) n
       order by n.owner nulls first, n.e164`,
      [
        filter.includeReleased ?? false,
        filter.owner ?? null,
        scope,
        filter.limit ?? 1000,
        filter.after?.e164 ?? null,
        filter.after?.owner ?? null,
        filter.prefix ?? null,
      ],
      toNumber,
    );
  }

  async numberTotals(
    filter: Pick<NumberFilter, 'owner' | 'scope' | 'prefix'>,
  ): Promise<NumberTotal[]> {
    // An area code's totals come from its numbers (022); the whole scope's from the summary (012).
    const [sql, name, params] =
      filter.prefix === undefined
        ? ['select switchboard.number_totals($1::text, $2::text) as r', 'number_totals', []]
        : [
            'select switchboard.number_totals_in($1::text, $2::text, $3::text) as r',
            'number_totals_in',
            [filter.prefix],
          ];
    const rows = await this.db
      .query<{ r: Row[] }>(sql, [filter.owner ?? null, filter.scope ?? 'all', ...params])
      .catch((error: unknown) => {
        throw translate(error, name);
      });
    return (rows[0]?.r ?? []).map(toNumberTotal);
  }

  async syncBegin(
    runId: string,
    carrier: CarrierName,
    actor: string,
    now: Date,
  ): Promise<SyncBeginOutcome> {
    return mapOutcome(
      await this.call(
        'sync_begin',
        ['text', 'text', 'text', 'timestamptz'],
        [runId, carrier, actor, iso(now)],
      ),
    ) as unknown as SyncBeginOutcome;
  }

  async syncBatch(runId: string, carrier: CarrierName, rows: SyncRow[]): Promise<SyncBatchCounts> {
    // Nulls are left out (undefined is not serialised): a missing key reads as null in
    // jsonb_to_recordset, and a smaller document is cheaper to pass and parse, PGlite above all.
    const payload = rows.map((row) => withoutNulls(fromOwned(row)));
    const outcome = await this.call(
      'sync_batch',
      ['text', 'text', 'jsonb'],
      [runId, carrier, json(payload)],
    );
    return toSyncBatchCounts(runId, outcome);
  }

  async syncFinish(runId: string, now: Date): Promise<SyncRun> {
    const outcome = await this.call('sync_finish', ['text', 'timestamptz'], [runId, iso(now)]);
    return toFinishedSyncRun(runId, outcome);
  }

  async syncFail(runId: string, error: string, now: Date): Promise<void> {
    await this.call(
      'sync_fail',
      ['text', 'text', 'timestamptz'],
      [runId, error.slice(0, 1000), iso(now)],
    );
  }

  async listSyncRuns(limit: number): Promise<SyncRun[]> {
    return this.select(
      'select to_jsonb(s) as r from switchboard.sync_runs s order by started_at desc limit $1::int',
      [limit],
      toSyncRun,
    );
  }

  async recordAudit(event: AuditEvent): Promise<void> {
    await this.db
      .query('select switchboard.record_audit($1::text::jsonb)', [json(fromAudit(event))])
      .catch((error: unknown) => {
        throw translate(error, 'record_audit');
      });
  }

  // --- Provisioning (issue 4) -------------------------------------------------------------------

  async setRequestLink(
    id: string,
    status: 'linked' | 'failed',
    error: string | null,
    now: Date,
  ): Promise<SetLinkOutcome> {
    return mapOutcome(
      await this.call(
        'set_request_link',
        ['text', 'text', 'text', 'timestamptz'],
        [id, status, error, iso(now)],
      ),
    ) as unknown as SetLinkOutcome;
  }

  async importNumber(carrier: CarrierName, row: OwnedNumber, now: Date): Promise<ImportOutcome> {
    return mapOutcome(
      await this.call(
        'import_number',
        ['text', 'jsonb', 'timestamptz'],
        [carrier, json(fromOwned(row)), iso(now)],
      ),
    ) as unknown as ImportOutcome;
  }

  async listAudit(filter: AuditFilter): Promise<AuditEvent[]> {
    return this.select(
      // Limit first, JSON after (see listNumbers): the trail only grows. An actor filter also
      // matches events made on that member's behalf (AuditFilter.actor). Written as the newest
      // `limit` by the actor plus the newest `limit` on their behalf (by someone else, so no event
      // comes twice), then the newest `limit` of both: each half is an ordered scan of its index
      // (audit_actor, 001; audit_on_behalf, 018) that stops at `limit`. A plain `or` lets the
      // planner walk audit_at through the whole trail for a member with few events.
      `select to_jsonb(a) as r from (
         select * from (
           (select * from switchboard.audit_events
            where ($1::text is null or actor = $1::text)
              and ($2::text is null or target = $2::text)
              and ($3::text is null or request_id = $3::text)
            order by at desc, id desc limit $4::int)
           union all
           (select * from switchboard.audit_events
            where (detail->>'onBehalfOf') = $1::text and actor <> $1::text
              and ($2::text is null or target = $2::text)
              and ($3::text is null or request_id = $3::text)
            order by at desc, id desc limit $4::int)
         ) u
         order by u.at desc, u.id desc limit $4::int
       ) a
       order by a.at desc, a.id desc`,
      [filter.actor ?? null, filter.target ?? null, filter.requestId ?? null, filter.limit ?? 50],
      toAudit,
    );
  }

  // --- Slack message refs (issue 5) ------------------------------------------------------------

  async saveSlackMessage(ref: SlackMessageRef): Promise<void> {
    await this.db
      .query('select switchboard.save_slack_message($1::text, $2::text, $3::text, $4::text)', [
        ref.requestId,
        ref.channel,
        ref.ts,
        ref.renderedStatus,
      ])
      .catch((error: unknown) => {
        throw translate(error, 'save_slack_message');
      });
  }

  async listSlackMessages(requestId: string): Promise<SlackMessageRef[]> {
    const rows = await this.db
      .query<{ r: Row[] }>('select switchboard.list_slack_messages($1::text) as r', [requestId])
      .catch((error: unknown) => {
        throw translate(error, 'list_slack_messages');
      });
    return (rows[0]?.r ?? []).map(toSlackMessageRef);
  }

  async claimSlackMessage(
    channel: string,
    ts: string,
    from: RequestStatus,
    to: RequestStatus,
  ): Promise<boolean> {
    const rows = await this.db
      .query<{ r: boolean }>(
        'select switchboard.claim_slack_message($1::text, $2::text, $3::text, $4::text) as r',
        [channel, ts, from, to],
      )
      .catch((error: unknown) => {
        throw translate(error, 'claim_slack_message');
      });
    return rows[0]?.r === true;
  }

  async claimSlackAnnouncement(requestId: string): Promise<boolean> {
    const rows = await this.db
      .query<{ r: boolean }>('select switchboard.claim_slack_announcement($1::text) as r', [
        requestId,
      ])
      .catch((error: unknown) => {
        throw translate(error, 'claim_slack_announcement');
      });
    return rows[0]?.r === true;
  }

  async releaseSlackAnnouncement(requestId: string): Promise<void> {
    await this.db
      .query('select switchboard.release_slack_announcement($1::text)', [requestId])
      .catch((error: unknown) => {
        throw translate(error, 'release_slack_announcement');
      });
  }

  async listUnannouncedRequests(now: Date, limit: number): Promise<PurchaseRequest[]> {
    const rows = await this.db
      .query<{ r: Row[] }>(
        'select switchboard.list_unannounced_requests($1::timestamptz, $2::int) as r',
        [iso(now), limit],
      )
      .catch((error: unknown) => {
        throw translate(error, 'list_unannounced_requests');
      });
    return (rows[0]?.r ?? []).map(toRequest);
  }

  async listUnnoticedOutcomes(since: Date, limit: number): Promise<PurchaseRequest[]> {
    const rows = await this.db
      .query<{ r: Row[] }>(
        'select switchboard.list_unnoticed_outcomes($1::timestamptz, $2::int) as r',
        [iso(since), limit],
      )
      .catch((error: unknown) => {
        throw translate(error, 'list_unnoticed_outcomes');
      });
    return (rows[0]?.r ?? []).map(toRequest);
  }

  async claimSlackNotice(requestId: string, status: RequestStatus): Promise<boolean> {
    const rows = await this.db
      .query<{ r: boolean }>('select switchboard.claim_slack_notice($1::text, $2::text) as r', [
        requestId,
        status,
      ])
      .catch((error: unknown) => {
        throw translate(error, 'claim_slack_notice');
      });
    return rows[0]?.r === true;
  }

  async listStaleSlackMessages(
    limit: number,
  ): Promise<Array<SlackMessageRef & { request: PurchaseRequest }>> {
    const rows = await this.db
      .query<{ r: Row[] }>('select switchboard.list_stale_slack_messages($1::int) as r', [limit])
      .catch((error: unknown) => {
        throw translate(error, 'list_stale_slack_messages');
      });
    return (rows[0]?.r ?? []).map(toStaleSlackMessage);
  }
  // --- end Slack message refs ------------------------------------------------------------------
}

// --- Slack message refs (issue 5) ----------------------------------------------------------------
// --- end Slack message refs ----------------------------------------------------------------------

/** Database errors become CoreErrors at this edge; the SQL text and parameters are not exposed. */
export function translate(error: unknown, where: string): CoreError {
  if (error instanceof CoreError) return error;
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === '23505')
    return new CoreError(
      'CONFLICT',
      'That was changed by someone else at the same moment. Try again.',
      { cause: error },
    );
  if (code === '42P01' || code === '42883' || code === '3F000') {
    return new CoreError(
      'UNAVAILABLE',
      `The database has no Switchboard schema (${where}). Run: switchboard migrate`,
      { cause: error },
    );
  }
  if (code === '28P01' || code === '28000' || code === '3D000') {
    return new CoreError(
      'UNAVAILABLE',
      `The database refused the connection (${message}). Check the user, password and database name in DATABASE_URL.`,
      { cause: error },
    );
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'ETIMEDOUT' ||
    /ECONNREFUSED|connect|terminat/i.test(message)
  ) {
    return new CoreError(
      'UNAVAILABLE',
      `The database is unreachable (${message}). Check DATABASE_URL.`,
      { cause: error },
    );
  }
  return new CoreError('INTERNAL', `Database error in ${where}.`, { cause: error });
}

// --- API tokens (issue 6) ------------------------------------------------------------------------
// --- end API tokens ------------------------------------------------------------------------------
