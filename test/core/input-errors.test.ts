/**
 * An input error names the fix in the caller's own terms: the CLI and Slack get the command's
 * usage line; an assistant over MCP, which calls a tool by its schema, does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/command.js';
import { claim, list, search } from '../../src/core/commands/index.js';
import { isCoreError } from '../../src/core/errors.js';
import type { Actor } from '../../src/core/types.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { ALICE, makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { STORES } from '../helpers/stores.js';

const pglite = STORES.find((s) => s.name === 'pglite')!;

async function inputError(
  deps: TestDeps,
  actor: Actor,
  input: unknown,
  command: Parameters<typeof runCommand>[1] = claim,
): Promise<string> {
  const error = await runCommand(deps, command, actor, input).then(
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

  it("says what to type in words, with the value given, not zod's own texts", async () => {
    const mcp = { ...ALICE, surface: 'mcp' as const };
    const cases: Array<[Parameters<typeof runCommand>[1], unknown, string]> = [
      [search, { query: '415', limit: 'abc' }, 'limit: must be a number, not "abc"'],
      [search, { query: '415', limit: 0 }, 'limit: must be at least 1, not 0'],
      [search, { query: '415', limit: 1.5 }, 'limit: must be a whole number, not 1.5'],
      [search, { query: '415', limit: 999 }, 'limit: must be at most 50, not 999'],
      [
        search,
        { query: '415', features: ['voice', 'fax'] },
        'features: must be one of voice, sms, mms, not "fax"',
      ],
      [
        search,
        { query: '415', type: 'cell' },
        'type: must be one of local, toll-free, mobile, not "cell"',
      ],
      [claim, {}, 'number: is required'],
      [list, { limit: -3 }, 'limit: must be at least 1, not -3'],
    ];
    for (const [command, input, expected] of cases) {
      expect(await inputError(deps, mcp, input, command)).toBe(expected);
    }
    // A schema's own message still wins over these.
    expect(await inputError(deps, mcp, { number: '12' })).toBe(
      'number: give a phone number in E.164 form, e.g. +14155550123',
    );
  });
});
