/**
 * The ports the core works through. Adapters live outside src/core: stores in src/store, carriers
 * in src/carriers, voice-agent platforms in src/agents. Outcomes a caller must handle come back as
 * discriminated unions, so that each race is decided in one SQL statement, not in check-then-act
 * code here.
 */
import type { RateLimitDecision } from './rate-limit.js'; // shared rate limits (020)
import type {
  AuditEvent,
  AvailableNumber,
  CarrierName,
  Country,
  Feature,
  Member,
  NumberRecord,
  NumberType,
  Platform,
  ProvisionFallback,
  PurchaseRequest,
  Quote,
  RequestStatus,
  Role,
  SyncRun,
} from './types.js';

// ------------------------------------------------------------------------------------------------
// Store

export type CreateRequestOutcome =
  | { status: 'created'; request: PurchaseRequest }
  | { status: 'quote-not-found' }
  | { status: 'quote-expired' }
  | { status: 'already-owned' }
  | { status: 'duplicate'; request: PurchaseRequest }
  | { status: 'member-cap'; count: number; cap: number }
  | { status: 'over-budget'; committed: number; budget: number; cost: number };

export type DecideOutcome =
  | { status: 'decided'; request: PurchaseRequest }
  | { status: 'expired'; request: PurchaseRequest }
  | { status: 'not-pending'; request: PurchaseRequest }
  | { status: 'not-found' };

export type BeginOutcome =
  | { status: 'executing'; request: PurchaseRequest }
  | { status: 'not-approved'; request: PurchaseRequest }
  | { status: 'not-found' };

export type CompleteOutcome =
  | { status: 'done' | 'already-done'; request: PurchaseRequest; number: NumberRecord }
  | { status: 'conflict'; request: PurchaseRequest }
  | { status: 'not-executing'; request: PurchaseRequest }
  | { status: 'not-found' };

export type FailOutcome =
  | { status: 'ok'; request: PurchaseRequest }
  | { status: 'not-executing'; request: PurchaseRequest }
  | { status: 'not-found' };

export type RetargetOutcome =
  { status: 'ok'; request: PurchaseRequest } | { status: 'taken' | 'refused' | 'quote-not-found' };

export type ClaimOutcome =
  | { status: 'claimed' | 'already-yours'; number: NumberRecord }
  | { status: 'held'; owner: string; number: NumberRecord }
  | { status: 'missing'; number: NumberRecord }
  | { status: 'member-cap'; count: number; cap: number }
  | { status: 'not-found' };

/**
 * An unclaim's one compare-and-set (migration 023): `unclaimed` when the number was the expected
 * owner's, assigned and linked to no agent; otherwise why not, as the number is now.
 */
export type UnclaimOutcome =
  | { status: 'unclaimed' | 'released' | 'in-pool' | 'missing' | 'linked'; number: NumberRecord }
  | { status: 'held'; owner: string; number: NumberRecord }
  | { status: 'not-found' };

export type ReleaseOutcome =
  | { status: 'released' | 'already-released' | 'linked'; number: NumberRecord }
  | { status: 'not-found' };

export type LinkOutcome = { status: 'linked'; number: NumberRecord } | { status: 'not-linkable' };
export type UnlinkOutcome = { status: 'unlinked'; number: NumberRecord } | { status: 'not-linked' };

export type SyncBeginOutcome =
  { status: 'started'; run: SyncRun } | { status: 'busy'; run: SyncRun };

export interface SyncBatchCounts {
  seen: number;
  new: number;
  updated: number;
  unchanged: number;
}

export interface SyncRow {
  e164: string;
  carrierRef: string | null;
  carrierAccount: string | null;
  country: string | null;
  region: string | null;
  locality: string | null;
  numberType: NumberType;
  features: Feature[];
  monthlyCost: number | null;
  upfrontCost: number | null;
  currency: string | null;
}

export interface NumberFilter {
  owner?: string;
  /** 'pool': nobody's and available. */
  scope?: 'pool' | 'owned' | 'all';
  includeReleased?: boolean;
  limit?: number;
  /** Keyset paging: only numbers after this one in the list's order (owner nulls first, e164). */
  after?: { owner: string | null; e164: string };
  /** Only numbers whose E.164 starts with this, e.g. "+1415" for area code 415. */
  prefix?: string;
}

export interface RequestFilter {
  statuses?: RequestStatus[];
  requester?: string;
  /** Requests for this member: made by them, or on their behalf (through an MCP token of theirs). */
  member?: string;
  /** Only requests whose provisioning link is still pending. */
  linkPending?: boolean;
  limit?: number;
}

export interface AuditFilter {
  /**
   * Events by this actor, or made on this member's behalf: `actor = X` or
   * `detail->>'onBehalfOf' = X`. An MCP token's events name the token (`mcp:<name>`) as actor and
   * its owner as `onBehalfOf` (src/core/command.ts), so a member id gives the member's own events
   * and their tokens'; a token's id gives that token's events only.
   */
  actor?: string;
  target?: string;
  requestId?: string;
  limit?: number;
}

export interface NewPurchaseRequest {
  id: string;
  requester: string;
  /** The member a request through an MCP token is made for (the token's owner). */
  onBehalfOf?: string | null;
  surface: string;
  quoteId: string;
  areaCode: string | null;
  reason: string | null;
  expiresAt: Date;
  memberCap: number | null;
  monthlyBudget: number | null;
  now: Date;
  /** Set by `provision`: stored with the request in the same transaction. */
  provision?: { fallback: ProvisionFallback | null; agent: string | null };
}

export interface Store {
  readonly kind: 'pglite' | 'postgres' | 'supabase';
  close(): Promise<void>;

  // --- Leases (issue 7) -------------------------------------------------------------------------
  /**
   * Takes or renews the lease `name` for `holder` until `ttlMs` from now (database clock); false
   * while another holder's lease is unexpired. Replicas of `serve` take one before each scheduled
   * job, so that one of them runs it.
   */
  tryLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up early; only its holder can. */
  releaseLease(name: string, holder: string): Promise<void>;
  // --- end leases -------------------------------------------------------------------------------

  // --- Shared rate limits (migration 020) -------------------------------------------------------
  /**
   * Refills the token bucket `key` and takes one token, atomically and timed by the database's
   * clock, so every replica on one database counts against the same bucket. A bucket starts full
   * at `burst` and gains `perMinute` tokens a minute, up to `burst` (as createRateLimiter).
   */
  rateTake(key: string, perMinute: number, burst: number): Promise<RateLimitDecision>;
  /** Forgets buckets untouched for `idleMs` (database clock); returns how many. */
  rateForget(idleMs: number): Promise<number>;
  // --- end shared rate limits -------------------------------------------------------------------

  touchMember(id: string, displayName?: string): Promise<void>;
  getMember(id: string): Promise<Member | null>;
  setMemberRoles(id: string, roles: Role[]): Promise<Member>;

  // --- API tokens (issue 6: MCP over HTTP) --------------------------------------------------------
  // Only a token's SHA-256 is ever stored or passed here; see ApiToken below.
  createApiToken(input: NewApiToken): Promise<CreateApiTokenOutcome>;
  /** Every token, revoked ones included, oldest first; never a hash. */
  listApiTokens(): Promise<ApiToken[]>;
  revokeApiToken(name: string, now: Date): Promise<RevokeApiTokenOutcome>;
  /** The live (unrevoked) token with this hash, or null. */
  findApiTokenByHash(tokenHash: string): Promise<ApiToken | null>;
  touchApiToken(id: number, now: Date): Promise<void>;
  // --- end API tokens -----------------------------------------------------------------------------

  saveQuotes(quotes: Quote[]): Promise<void>;
  getQuote(id: string): Promise<Quote | null>;
  /** The newest unexpired quote for a number, if a search made one. */
  findQuote(e164: string, now: Date): Promise<Quote | null>;

  createPurchaseRequest(input: NewPurchaseRequest): Promise<CreateRequestOutcome>;
  setRequestHold(id: string, holdRef: string): Promise<void>;
  decideRequest(
    id: string,
    decider: string,
    approve: boolean,
    note: string | null,
    now: Date,
  ): Promise<DecideOutcome>;
  beginExecution(id: string, now: Date): Promise<BeginOutcome>;
  retargetRequest(id: string, quoteId: string, now: Date): Promise<RetargetOutcome>;
  setOrderRef(id: string, orderRef: string, now: Date): Promise<void>;
  completePurchase(
    id: string,
    number: AvailableNumber & { carrierRef: string | null },
    orderRef: string | null,
    now: Date,
  ): Promise<CompleteOutcome>;
  failRequest(
    id: string,
    status: 'failed' | 'needs_attention',
    code: string,
    message: string,
    now: Date,
  ): Promise<FailOutcome>;
  expireRequests(now: Date): Promise<PurchaseRequest[]>;
  getRequest(id: string): Promise<PurchaseRequest | null>;
  listRequests(filter: RequestFilter): Promise<PurchaseRequest[]>;

  claimNumber(e164: string, member: string, memberCap: number | null): Promise<ClaimOutcome>;
  /**
   * Gives a number back to the pool (assigned -> available, owner -> null) if `owner` still holds
   * it and it is linked to no voice agent; it stays in the carrier account.
   */
  unclaimNumber(numberId: number, owner: string, now: Date): Promise<UnclaimOutcome>;
  releaseNumber(numberId: number, now: Date): Promise<ReleaseOutcome>;
  linkNumber(
    numberId: number,
    platform: Platform,
    agentId: string,
    ref: string | null,
    now: Date,
  ): Promise<LinkOutcome>;
  unlinkNumber(numberId: number, now: Date): Promise<UnlinkOutcome>;
  getNumber(e164: string): Promise<NumberRecord | null>;
  listNumbers(filter: NumberFilter): Promise<NumberRecord[]>;

  syncBegin(
    runId: string,
    carrier: CarrierName,
    actor: string,
    now: Date,
  ): Promise<SyncBeginOutcome>;
  syncBatch(runId: string, carrier: CarrierName, rows: SyncRow[]): Promise<SyncBatchCounts>;
  syncFinish(runId: string, now: Date): Promise<SyncRun>;
  syncFail(runId: string, error: string, now: Date): Promise<void>;
  listSyncRuns(limit: number): Promise<SyncRun[]>;

  recordAudit(event: AuditEvent): Promise<void>;
  listAudit(filter: AuditFilter): Promise<AuditEvent[]>;

  // --- Slack message refs (issue 5) ------------------------------------------------------------
  /** Records an approval message posted for a request; saving the same message again is a no-op. */
  saveSlackMessage(ref: SlackMessageRef): Promise<void>;
  /** Every message posted for a request, oldest first (the first is the primary one). */
  listSlackMessages(requestId: string): Promise<SlackMessageRef[]>;
  /**
   * Compare-and-set of the status a message shows: true when this caller moved it from `from` to
   * `to` and so must redraw it. Of a click and the expiry job (or two replicas) only one wins.
   */
  claimSlackMessage(
    channel: string,
    ts: string,
    from: RequestStatus,
    to: RequestStatus,
  ): Promise<boolean>;
  /** Messages whose request has moved on since they were drawn, each with its request. */
  listStaleSlackMessages(
    limit: number,
  ): Promise<Array<SlackMessageRef & { request: PurchaseRequest }>>;
  /**
   * Claims the posting of a request's approval message: true for exactly one caller (the Slack
   * listener that created the request, or the announce job of any replica).
   */
  claimSlackAnnouncement(requestId: string): Promise<boolean>;
  /** Gives a claimed announcement back when nothing could be posted, so it is tried again. */
  releaseSlackAnnouncement(requestId: string): Promise<void>;
  /** Pending, unexpired requests whose approval message nobody has posted (made in CLI or MCP). */
  listUnannouncedRequests(now: Date, limit: number): Promise<PurchaseRequest[]>;
  /**
   * Requests that ended since `since`, made in Slack or on a member's behalf, that no approval
   * message carries and whose member has not been told of this status (see migration 016).
   */
  listUnnoticedOutcomes(since: Date, limit: number): Promise<PurchaseRequest[]>;
  /** Claims telling a request's member of its status: true for exactly one caller. */
  claimSlackNotice(requestId: string, status: RequestStatus): Promise<boolean>;
  // --- end Slack message refs ------------------------------------------------------------------

  /** Count and monthly cost per owner (null: the pool) of every live number the filter selects. */
  numberTotals(filter: Pick<NumberFilter, 'owner' | 'scope' | 'prefix'>): Promise<NumberTotal[]>;

  // --- Provisioning (issue 4) -------------------------------------------------------------------
  /** Records the outcome of linking a provisioned number: pending | failed -> linked | failed. */
  setRequestLink(
    id: string,
    status: 'linked' | 'failed',
    error: string | null,
    now: Date,
  ): Promise<SetLinkOutcome>;
  /** Adds a number the carrier account owns (verified there) to the pool, unless it is recorded. */
  importNumber(carrier: CarrierName, row: OwnedNumber, now: Date): Promise<ImportOutcome>;
}

export interface NumberTotal {
  owner: string | null;
  count: number;
  monthly: number;
  currency: string;
}

export type SetLinkOutcome =
  { status: 'ok' | 'unchanged'; request: PurchaseRequest } | { status: 'not-found' };

export type ImportOutcome = { status: 'imported' | 'exists'; number: NumberRecord };

// --- Slack message refs (issue 5) ----------------------------------------------------------------

/** An approval message in Slack: where it is, and the request status it last showed. */
export interface SlackMessageRef {
  requestId: string;
  channel: string;
  ts: string;
  renderedStatus: RequestStatus;
}

// --- end Slack message refs ----------------------------------------------------------------------

// ------------------------------------------------------------------------------------------------
// Carrier

export interface SearchCriteria {
  country: Country;
  numberType: NumberType;
  areaCode?: string;
  locality?: string;
  region?: string;
  contains?: string;
  features: Feature[];
  limit: number;
}

/** A number the carrier account owns, as a sync page reports it. */
export type OwnedNumber = SyncRow;

export type OrderOutcome =
  | { status: 'bought'; number: AvailableNumber & { carrierRef: string | null }; orderRef: string }
  /** Someone else got it between search and order: a clear, definite outcome. */
  | { status: 'taken'; message: string }
  /** The carrier accepted the order but has not finished it within the adapter's bound. */
  | { status: 'pending'; orderRef: string };

export type OrderLookup =
  | { status: 'bought'; number: AvailableNumber & { carrierRef: string | null }; orderRef: string }
  | { status: 'failed'; message: string }
  | { status: 'pending'; orderRef: string }
  | { status: 'not-found' };

export interface Carrier {
  readonly name: CarrierName;
  /** True for the sandbox: every front end labels its data "sandbox". */
  readonly sandbox: boolean;
  search(criteria: SearchCriteria, signal?: AbortSignal): Promise<AvailableNumber[]>;
  /** The number's current offer just before ordering, or null if it is no longer available. */
  check(e164: string): Promise<AvailableNumber | null>;
  /** Holds a number while its purchase waits for approval (Telnyx reservations). */
  hold?(e164: string, reference: string): Promise<string | null>;
  releaseHold?(holdRef: string): Promise<void>;
  /** Orders one number. `reference` (our request id) lets a later lookup find the order. */
  order(
    e164: string,
    options: { reference: string; account?: string | null },
  ): Promise<OrderOutcome>;
  /** Finds what became of an order after a crash or timeout: by our reference, then by number. */
  lookupOrder(reference: string, e164: string, orderRef: string | null): Promise<OrderLookup>;
  release(number: Pick<NumberRecord, 'e164' | 'carrierRef' | 'carrierAccount'>): Promise<void>;
  /**
   * The account's numbers, one page at a time; never the whole account at once. `onTotal` is
   * called with the account's size when the carrier reports one (progress bars).
   */
  listOwned(options?: {
    signal?: AbortSignal;
    onTotal?: (total: number) => void;
  }): AsyncIterable<OwnedNumber[]>;
  /** One number, if the account (or a subaccount) owns it: verifies a number before importing it. */
  lookupOwned?(e164: string): Promise<OwnedNumber | null>;
  /** The account and its subaccounts, where the carrier has them (Twilio). */
  listAccounts?(): Promise<Array<{ sid: string; name: string; status: string }>>;
  /** Creates a subaccount; purchases can then name it as their `account`. */
  createAccount?(name: string): Promise<{ sid: string; name: string; status: string }>;
}

// ------------------------------------------------------------------------------------------------
// Voice-agent platforms

export interface Agent {
  platform: Platform;
  id: string;
  name: string;
  sandbox: boolean;
}

export interface VoiceAgents {
  readonly platform: Platform;
  readonly sandbox: boolean;
  listAgents(): Promise<Agent[]>;
  getAgent(id: string): Promise<Agent | null>;
  /** Points the number at the agent; `existingRef` is set when relinking. Returns the platform's id. */
  link(
    number: Pick<NumberRecord, 'e164' | 'carrier' | 'carrierRef'>,
    agentId: string,
    existingRef: string | null,
  ): Promise<{ ref: string | null }>;
  unlink(number: Pick<NumberRecord, 'e164'>, ref: string | null): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// Everything a command needs, built in one composition root.

export interface Clock {
  now(): Date;
}

export interface Ids {
  request(): string;
  quote(): string;
  syncRun(): string;
}

export interface Policy {
  approvers: readonly string[];
  admins: readonly string[];
  allowSelfApproval: boolean;
  /** Requests under this monthly cost are approved by policy; null: off (the default). */
  autoApproveUnderMonthly: number | null;
  memberNumberCap: number | null;
  monthlyBudget: number | null;
  requestTtlMinutes: number;
  quoteTtlMinutes: number;
}

export interface Progress {
  (event: { phase: string; done: number; total?: number; message?: string }): void;
}

export interface Deps {
  store: Store;
  carriers: Partial<Record<CarrierName, Carrier>>;
  agents: Partial<Record<Platform, VoiceAgents>>;
  policy: Policy;
  clock: Clock;
  ids: Ids;
}

// ------------------------------------------------------------------------------------------------
// API tokens (issue 6): bearer tokens for MCP over HTTP. A reader sees the read tools only; a
// requester may also request purchases, claim, link and release within policy. None approves.

export type ApiTokenRole = 'reader' | 'requester';

export interface ApiToken {
  id: number;
  name: string;
  role: ApiTokenRole;
  /**
   * The member the token acts for: purchases requested through it are made on their behalf, and
   * what it buys or claims is theirs (core/policy.ts memberOf).
   */
  owner: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface NewApiToken {
  name: string;
  role: ApiTokenRole;
  /** SHA-256 of the token, lowercase hex. The token itself never reaches the store. */
  tokenHash: string;
  createdBy: string;
  /** The owning member; the maker (createdBy) when absent. */
  owner?: string;
  now: Date;
}

export type CreateApiTokenOutcome =
  { status: 'created'; token: ApiToken } | { status: 'name-taken'; token: ApiToken };

export type RevokeApiTokenOutcome =
  { status: 'revoked' | 'already-revoked'; token: ApiToken } | { status: 'not-found' };
