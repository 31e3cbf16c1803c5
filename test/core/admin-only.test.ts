/**
 * `adminOnly` on a command hides it from those who are no admin (the MCP tool list; `[admins only]`
 * in help). It must only ever mark a command that does refuse them: otherwise a member would not
 * be offered a tool they could use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyCommand } from '../../src/core/command.js';
import { runCommand } from '../../src/core/command.js';
import { commands } from '../../src/core/commands/index.js';
import { isCoreError } from '../../src/core/errors.js';
import { tokenCreate, tokenList, tokenRevoke } from '../../src/mcp/token-cli.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ALICE, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';

/** A valid input for each command marked admin-only, so that only the role can refuse it. */
const INPUTS: Record<string, unknown> = {
  sync: {},
  accounts: { action: 'list' },
  'token create': { name: 'alice-bot', role: 'reader' },
  'token list': {},
  'token revoke': { name: 'alice-bot' },
};

describe('commands marked admin-only', () => {
  let store: SqlStore;
  let deps: TestDeps;
  beforeAll(async () => {
    store = await freshPglite();
    deps = makeDeps(store);
  });
  afterAll(async () => {
    await store.close();
  });

  const all = [...commands, tokenCreate, tokenList, tokenRevoke] as readonly AnyCommand[];
  const marked = all.filter((command) => command.adminOnly);

  it('are the ones this test knows how to call: sync, accounts and the token commands', () => {
    expect(marked.map((command) => command.name).sort()).toEqual(Object.keys(INPUTS).sort());
  });

  it.each(Object.keys(INPUTS))('%s refuses a member, saying only admins may', async (name) => {
    const command = marked.find((c) => c.name === name)!;
    const error = await runCommand(deps, command, ALICE, INPUTS[name]).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(isCoreError(error) && error.code).toBe('FORBIDDEN');
    expect((error as Error).message).toMatch(/^Only admins can /);
  });
});
