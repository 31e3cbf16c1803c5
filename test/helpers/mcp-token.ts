/** An MCP bearer token made straight in the store, for tests that need one to call with. */
import { expect } from 'vitest';
import type { ApiTokenRole, Store } from '../../src/core/ports.js';
import { generateToken, hashToken } from '../../src/mcp/tokens.js';

/**
 * Makes token `name` with `role`, made by `local` now, acting for `owner` (else for its maker,
 * local); expects it to be created and returns the bearer token.
 */
export async function makeMcpToken(
  store: Store,
  name: string,
  role: ApiTokenRole,
  owner?: string,
): Promise<string> {
  const token = generateToken();
  const outcome = await store.createApiToken({
    name,
    role,
    tokenHash: hashToken(token),
    createdBy: 'local',
    ...(owner !== undefined ? { owner } : {}),
    now: new Date(),
  });
  expect(outcome.status).toBe('created');
  return token;
}
