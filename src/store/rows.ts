/**
 * Maps the rows SQL returns (as jsonb, snake_case, timestamps as ISO text, numerics as numbers or
 * text) to the domain types. Every read and every function result goes through here, so every
 * driver yields the same objects.
 */
import { CoreError } from '../core/errors.js';
import type {
  AuditEvent,
  AvailableNumber,
  CarrierName,
  Feature,
  Member,
  NumberRecord,
  NumberType,
  Platform,
  PurchaseRequest,
  ProvisionFallback,
  ProvisionPlan,
  Quote,
  RequestStatus,
  Role,
  Surface,
  SyncRun,
} from '../core/types.js';
import type {
  ApiToken,
  ApiTokenRole,
  CreateApiTokenOutcome,
  NumberTotal,
  OwnedNumber,
  RevokeApiTokenOutcome,
  SlackMessageRef,
  SyncBatchCounts,
} from '../core/ports.js';

export type Row = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

export function toNumber(row: Row): NumberRecord {
  return {
    id: num(row.id),
    e164: str(row.e164),
    carrier: str(row.carrier) as CarrierName,
    carrierRef: strOrNull(row.carrier_ref),
    carrierAccount: strOrNull(row.carrier_account),
    status: str(row.status) as NumberRecord['status'],
    owner: strOrNull(row.owner),
    country: strOrNull(row.country),
    region: strOrNull(row.region),
    locality: strOrNull(row.locality),
    numberType: str(row.number_type) as NumberType,
    features: arr<Feature>(row.features),
    monthlyCost: numOrNull(row.monthly_cost),
    upfrontCost: numOrNull(row.upfront_cost),
    currency: str(row.currency) || 'USD',
    agent:
      row.agent_id === null || row.agent_id === undefined
        ? null
        : {
            platform: str(row.agent_platform) as Platform,
            agentId: str(row.agent_id),
            ref: strOrNull(row.agent_ref),
            linkedAt: dateOrNull(row.linked_at),
          },
    source: str(row.source) as NumberRecord['source'],
    requestId: strOrNull(row.request_id),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    releasedAt: dateOrNull(row.released_at),
  };
}

export function toQuote(row: Row): Quote {
  return {
    id: str(row.id),
    e164: str(row.e164),
    carrier: str(row.carrier) as CarrierName,
    carrierAccount: strOrNull(row.carrier_account),
    country: str(row.country),
    region: strOrNull(row.region),
    locality: strOrNull(row.locality),
    numberType: str(row.number_type) as NumberType,
    features: arr<Feature>(row.features),
    monthlyCost: num(row.monthly_cost),
    upfrontCost: num(row.upfront_cost),
    currency: str(row.currency),
    sandbox: Boolean(row.sandbox),
    createdAt: date(row.created_at),
    expiresAt: date(row.expires_at),
  };
}

export function fromQuote(quote: Quote): Row {
  return {
    id: quote.id,
    e164: quote.e164,
    carrier: quote.carrier,
    carrier_account: quote.carrierAccount ?? null,
    country: quote.country,
    region: quote.region,
    locality: quote.locality,
    number_type: quote.numberType,
    features: quote.features,
    monthly_cost: quote.monthlyCost,
    upfront_cost: quote.upfrontCost,
    currency: quote.currency,
    sandbox: quote.sandbox,
    created_at: quote.createdAt.toISOString(),
    expires_at: quote.expiresAt.toISOString(),
  };
}

export function toRequest(row: Row): PurchaseRequest {
  return {
    id: str(row.id),
    kind: 'purchase',
    status: str(row.status) as RequestStatus,
    requester: str(row.requester),
    onBehalfOf: strOrNull(row.on_behalf_of),
    surface: str(row.surface) as Surface,
    quoteId: str(row.quote_id),
    e164: str(row.e164),
    areaCode: strOrNull(row.area_code),
    carrier: str(row.carrier) as CarrierName,
    carrierAccount: strOrNull(row.carrier_account),
    monthlyCost: num(row.monthly_cost),
    upfrontCost: num(row.upfront_cost),
    currency: str(row.currency),
    reason: strOrNull(row.reason),
    holdRef: strOrNull(row.hold_ref),
    decidedBy: strOrNull(row.decided_by),
    decidedAt: dateOrNull(row.decided_at),
    decisionNote: strOrNull(row.decision_note),
    expiresAt: date(row.expires_at),
    attempts: num(row.attempts),
    carrierOrderRef: strOrNull(row.carrier_order_ref),
    errorCode: strOrNull(row.error_code),
    errorMessage: strOrNull(row.error_message),
    numberId: numOrNull(row.number_id),
    provision:
      row.provision_agent == null && row.provision_fallback == null
        ? null
        : {
            fallback: strOrNull(row.provision_fallback) as ProvisionFallback | null,
            agent: strOrNull(row.provision_agent),
            linkStatus: strOrNull(row.link_status) as ProvisionPlan['linkStatus'],
            linkError: strOrNull(row.link_error),
          },
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

export function toAudit(row: Row): AuditEvent {
  return {
    id: num(row.id),
    at: date(row.at),
    actor: str(row.actor),
    surface: str(row.surface) as Surface,
    command: str(row.command),
    target: strOrNull(row.target),
    outcome: str(row.outcome) as AuditEvent['outcome'],
    errorCode: strOrNull(row.error_code),
    message: strOrNull(row.message),
    monthlyCost: numOrNull(row.monthly_cost),
    upfrontCost: numOrNull(row.upfront_cost),
    currency: strOrNull(row.currency),
    requestId: strOrNull(row.request_id),
    durationMs: numOrNull(row.duration_ms),
    detail: (row.detail as Record<string, unknown> | null) ?? null,
  };
}

export function fromAudit(event: AuditEvent): Row {
  return {
    at: event.at.toISOString(),
    actor: event.actor,
    surface: event.surface,
    command: event.command,
    target: event.target,
    outcome: event.outcome,
    error_code: event.errorCode,
    message: event.message,
    monthly_cost: event.monthlyCost,
    upfront_cost: event.upfrontCost,
    currency: event.currency,
    request_id: event.requestId,
    duration_ms: event.durationMs,
    detail: event.detail,
  };
}

export function toSyncRun(row: Row): SyncRun {
  return {
    id: str(row.id),
    carrier: str(row.carrier) as CarrierName,
    startedBy: str(row.started_by),
    startedAt: date(row.started_at),
    finishedAt: dateOrNull(row.finished_at),
    status: str(row.status) as SyncRun['status'],
    seen: num(row.seen),
    new: num(row.new),
    updated: num(row.updated),
    missing: num(row.missing),
    error: strOrNull(row.error),
  };
}

/** sync_batch's outcome as counts; any status but ok means the run was ended meanwhile. */
export function toSyncBatchCounts(runId: string, outcome: Outcome): SyncBatchCounts {
  if (outcome.status !== 'ok')
    throw new CoreError('CONFLICT', `Sync run ${runId} is no longer running.`);
  return {
    seen: Number(outcome.seen),
    new: Number(outcome.new),
    updated: Number(outcome.updated),
    unchanged: Number(outcome.unchanged),
  };
}

/** sync_finish's outcome as the finished run; any status but succeeded, as toSyncBatchCounts. */
export function toFinishedSyncRun(runId: string, outcome: Outcome): SyncRun {
  if (outcome.status !== 'succeeded')
    throw new CoreError('CONFLICT', `Sync run ${runId} is no longer running.`);
  return toSyncRun(outcome.run as Row);
}

export function toMember(row: Row): Member {
  return { id: str(row.id), displayName: strOrNull(row.display_name), roles: arr<Role>(row.roles) };
}

/** A carrier's row for a number it owns, as the SQL functions read it (snake_case jsonb). */
export function fromOwned(row: OwnedNumber): Record<string, unknown> {
  return {
    e164: row.e164,
    carrier_ref: row.carrierRef,
    carrier_account: row.carrierAccount,
    country: row.country,
    region: row.region,
    locality: row.locality,
    number_type: row.numberType,
    features: row.features,
    monthly_cost: row.monthlyCost,
    upfront_cost: row.upfrontCost,
    currency: row.currency,
  };
}

/** The number a carrier sold, as complete_purchase reads it (snake_case jsonb). */
export function fromBoughtNumber(number: AvailableNumber & { carrierRef: string | null }): Row {
  return {
    e164: number.e164,
    carrier_ref: number.carrierRef,
    carrier_account: number.carrierAccount ?? null,
    country: number.country,
    region: number.region,
    locality: number.locality,
    number_type: number.numberType,
    features: number.features,
  };
}

export function toNumberTotal(row: Row): NumberTotal {
  return {
    owner: strOrNull(row.owner),
    count: num(row.count),
    monthly: num(row.monthly),
    currency: strOrNull(row.currency) ?? 'USD',
  };
}

export type Outcome = Row & { status: string };

/** Maps a function's jsonb outcome: nested rows become domain objects. */
export function mapOutcome(outcome: Outcome): Record<string, unknown> & { status: string } {
  const mapped: Record<string, unknown> & { status: string } = { ...outcome };
  if (outcome.request) mapped.request = toRequest(outcome.request as Row);
  if (outcome.number) mapped.number = toNumber(outcome.number as Row);
  if (outcome.run) mapped.run = toSyncRun(outcome.run as Row);
  if (outcome.quote) mapped.quote = toQuote(outcome.quote as Row);
  for (const key of ['count', 'cap', 'committed', 'budget', 'cost'] as const) {
    if (outcome[key] !== undefined) mapped[key] = Number(outcome[key]);
  }
  return mapped;
}

export function toSlackMessageRef(row: Row): SlackMessageRef {
  return {
    requestId: String(row.request_id),
    channel: String(row.channel),
    ts: String(row.ts),
    renderedStatus: String(row.rendered_status) as RequestStatus,
  };
}

/** list_stale_slack_messages' rows: a message ref with its request nested. */
export function toStaleSlackMessage(row: Row): SlackMessageRef & { request: PurchaseRequest } {
  return { ...toSlackMessageRef(row), request: toRequest(row.request as Row) };
}

export function toApiToken(row: Row): ApiToken {
  return {
    id: Number(row.id),
    name: String(row.name),
    role: String(row.role) as ApiTokenRole,
    // Before migration 013 a token had no owner: its maker.
    owner: String(row.owner ?? row.created_by),
    createdBy: String(row.created_by),
    createdAt: new Date(String(row.created_at)),
    revokedAt: dateOrNull(row.revoked_at),
    lastUsedAt: dateOrNull(row.last_used_at),
  };
}

export function toCreateApiTokenOutcome(outcome: Outcome): CreateApiTokenOutcome {
  return {
    status: outcome.status,
    token: toApiToken(outcome.token as Row),
  } as CreateApiTokenOutcome;
}

export function toRevokeApiTokenOutcome(outcome: Outcome): RevokeApiTokenOutcome {
  if (outcome.status === 'not-found') return { status: 'not-found' };
  return {
    status: outcome.status,
    token: toApiToken(outcome.token as Row),
  } as RevokeApiTokenOutcome;
}

/** find_api_token's outcome: the live token with that hash, or null. */
export function toFoundApiToken(outcome: Outcome): ApiToken | null {
  return outcome.status === 'found' ? toApiToken(outcome.token as Row) : null;
}
