/**
 * An input error names the fix in the caller's own terms: the CLI and Slack get the command's
 * usage line; an assistant over MCP, which calls a tool by its schema, does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { claim } from '../../src/core/commands/index.js';
import { isCoreError } from '../../src/core/errors.js';
import type { Actor } from '../../src/core/types.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ALICE, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { STORES } from '../helpers/stores.js';

const pglite = STORES.find((s) => s.name === 'pglite')!;

async function inputError(deps: TestDeps, actor: Actor, input: unknown): Promise<string> {
  const error = await runCommand(deps, claim, actor, input).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  if (!isCoreError(error) || error.code !== 'INVALID_INPUT')
    throw new Error(`expected INVALID_INPUT, got ${String(error)}`);
  return error.message;
}

describe('input errors on each surface', () => {
  let store: SqlStore;
  let deps: TestDeps;
  beforeAll(async () => {
    store = await pglite.make();
    deps = makeDeps(store);
  });
  afterAll(async () => {
    await store.close();
  });

  it('the CLI and Slack get the usage line; MCP gets the problem alone', async () => {
    const cli = await inputError(deps, ALICE, { number: 42 });
    expect(cli).toMatch(/^number: .+\. Usage: claim <\+E\.164>/);
    const slack = await inputError(deps, { ...ALICE, surface: 'slack' }, { number: 42 });
    expect(slack).toContain('Usage: claim');
    const mcp = await inputError(deps, { ...ALICE, surface: 'mcp' }, { number: 42 });
    expect(mcp).toMatch(/^number: /);
    expect(mcp).not.toContain('Usage');
  });

  it('a NUL character: the same on each surface but for the usage line', async () => {
    const cli = await inputError(deps, ALICE, { number: '+1415\u00005550100' });
    expect(cli).toContain('NUL character');
    expect(cli).toContain('Usage: claim');
    const mcp = await inputError(
      deps,
      { ...ALICE, surface: 'mcp' },
      { number: '+1415\u00005550100' },
    );
    expect(mcp).toContain('NUL character');
    expect(mcp).not.toContain('Usage');
  });
});
