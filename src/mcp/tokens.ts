/**
 * Bearer tokens for MCP over HTTP: `sbt_` and 43 base64url characters (256 random bits). The
 * store keeps only the token's SHA-256, so a leaked database does not leak working tokens; the
 * token is shown once, when it is made.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ApiToken, Store } from '../core/ports.js';
import type { Actor } from '../core/types.js';

export const TOKEN_PREFIX = 'sbt_';
const TOKEN_RE = /^sbt_[A-Za-z0-9_-]{43}$/;

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export type Authentication =
  { ok: true; token: ApiToken } | { ok: false; error: 'missing' | 'invalid'; message: string };

/** How often `last_used_at` is written at most, per token: a busy client is not a write per call. */
const TOUCH_EVERY_MS = 60_000;

/** Checks an `Authorization` header against the store: every request, so revocation is immediate. */
export async function authenticate(
  store: Store,
  header: string | undefined,
  now: Date,
): Promise<Authentication> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) {
    return {
      ok: false,
      error: 'missing',
      message:
        'Send Authorization: Bearer <token>. An admin makes one with: switchboard token create --name <name> --role reader|requester',
    };
  }
  const presented = match[1] as string;
  const token = TOKEN_RE.test(presented)
    ? await store.findApiTokenByHash(hashToken(presented))
    : null;
  if (!token) {
    return {
      ok: false,
      error: 'invalid',
      message:
        'This token is unknown or has been revoked. Ask an admin for a new one (switchboard token create) and update your client configuration.',
    };
  }
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
    await store.touchApiToken(token.id, now);
  }
  return { ok: true, token };
}

/**
 * Who a request with this token is: `mcp:<token name>` (so the audit trail names the token),
 * acting for the token's owner (core/policy.ts memberOf): a purchase it requests is the owner's
 * own, so they cannot approve it themselves; what it buys or claims is the owner's, within the
 * owner's cap; `mine` and "your number" mean the owner's. Its role stays the token's.
 */
export function tokenActor(token: ApiToken): Actor {
  return {
    id: `mcp:${token.name}`,
    surface: 'mcp',
    displayName: `MCP token ${token.name}`,
    onBehalfOf: token.owner,
  };
}
