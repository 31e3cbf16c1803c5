/** The domain model: what a number, a quote, a request and an audit event are. */

export const CARRIERS = ['telnyx', 'twilio', 'sandbox'] as const;
export type CarrierName = (typeof CARRIERS)[number];

export const PLATFORMS = ['retell', 'vapi'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const NUMBER_TYPES = ['local', 'toll-free', 'mobile'] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

export const FEATURES = ['voice', 'sms', 'mms'] as const;
export type Feature = (typeof FEATURES)[number];

export const COUNTRIES = ['US', 'CA'] as const;
export type Country = (typeof COUNTRIES)[number];

export type Surface = 'cli' | 'slack' | 'mcp' | 'system';
export type Role = 'approver' | 'admin';

/** Who is acting, and through which front end. Member ids are Slack user ids (U01ALICE). */
export interface Actor {
  id: string;
  surface: Surface;
  displayName?: string;
  /** Roles granted to this actor on top of the configured ones (e.g. the local CLI operator). */
  extraRoles?: readonly Role[];
  /**
   * The member this actor acts for: an MCP token's owner (see `memberOf` in policy.ts). Purchases
   * it requests record them as `onBehalfOf` and count as that member's own when it comes to
   * approving them; what it buys or claims is that member's, within their cap. Roles are not.
   */
  onBehalfOf?: string;
}

export type NumberStatus = 'available' | 'assigned' | 'missing' | 'released';

export interface AgentLink {
  platform: Platform;
  agentId: string;
  ref: string | null;
  linkedAt: Date | null;
}

export interface NumberRecord {
  id: number;
  e164: string;
  carrier: CarrierName;
  carrierRef: string | null;
  carrierAccount: string | null;
  status: NumberStatus;
  owner: string | null;
  country: string | null;
  region: string | null;
  locality: string | null;
  numberType: NumberType;
  features: Feature[];
  monthlyCost: number | null;
  upfrontCost: number | null;
  currency: string;
  agent: AgentLink | null;
  source: 'purchase' | 'sync' | 'import';
  requestId: string | null;
  createdAt: Date;
  updatedAt: Date;
  releasedAt: Date | null;
}

/** A number the carrier offers, as its adapter reports it. */
export interface AvailableNumber {
  e164: string;
  carrier: CarrierName;
  carrierAccount?: string | null;
  country: string;
  region: string | null;
  locality: string | null;
  numberType: NumberType;
  features: Feature[];
  monthlyCost: number;
  upfrontCost: number;
  currency: string;
}

/** A server-made quote: an offer we saved, that a purchase request binds to. */
export interface Quote extends AvailableNumber {
  id: string;
  sandbox: boolean;
  createdAt: Date;
  expiresAt: Date;
}

export const REQUEST_STATUSES = [
  'pending',
  'approved',
  'executing',
  'done',
  'failed',
  'needs_attention',
  'denied',
  'expired',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export interface PurchaseRequest {
  id: string;
  kind: 'purchase';
  status: RequestStatus;
  requester: string;
  /** The member a request made through an MCP token was made for (the token's owner), else null. */
  onBehalfOf: string | null;
  surface: Surface;
  quoteId: string;
  e164: string;
  areaCode: string | null;
  carrier: CarrierName;
  carrierAccount: string | null;
  monthlyCost: number;
  upfrontCost: number;
  currency: string;
  reason: string | null;
  holdRef: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  expiresAt: Date;
  attempts: number;
  carrierOrderRef: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  numberId: number | null;
  /** Set by `provision`: how the number was found and the agent to link it to once bought. */
  provision: ProvisionPlan | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Where `provision` found its number: the area code asked for, the same region, the country. */
export type ProvisionFallback = 'area-code' | 'region' | 'country';

export interface ProvisionPlan {
  fallback: ProvisionFallback | null;
  /** "retell:<agent id>" or "vapi:<assistant id>"; null when no agent was named. */
  agent: string | null;
  /** pending until the number is bought and linked; failed says why in linkError. */
  linkStatus: 'pending' | 'linked' | 'failed' | null;
  linkError: string | null;
}

export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditEvent {
  id?: number;
  at: Date;
  actor: string;
  surface: Surface;
  command: string;
  target: string | null;
  outcome: AuditOutcome;
  errorCode: string | null;
  message: string | null;
  monthlyCost: number | null;
  upfrontCost: number | null;
  currency: string | null;
  requestId: string | null;
  durationMs: number | null;
  detail: Record<string, unknown> | null;
}

export interface SyncRun {
  id: string;
  carrier: CarrierName;
  startedBy: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: 'running' | 'succeeded' | 'failed';
  seen: number;
  new: number;
  updated: number;
  missing: number;
  error: string | null;
}

export interface Member {
  id: string;
  displayName: string | null;
  roles: Role[];
}
