/**
 * Lines of the CLI's answers that must not mislead: an empty list of one's own requests, the
 * totals under a list that is not the whole team's, a number moved between agents, a sync that
 * found nothing new, an agent list that came back empty, a request nobody decided in time, one
 * nobody can approve, and a number given back to the pool (and every refusal to give one back).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { renderers } from '../../src/cli/render.js';
import { createSandboxAgents } from '../../src/agents/sandbox-agents.js';
import { freshCliApp, runCli } from '../helpers/cli-in-process.js';
import type { TestDeps } from '../helpers/deps.js';
import { syncRow } from '../helpers/fixtures.js';

describe('answers that read right', () => {
  let app: App;
  beforeEach(async () => {
    app = await freshCliApp();
    return () => app.close();
  });

  it('an empty "requests mine" reads as English', async () => {
    const run = await runCli(app, ['requests', 'mine', '--as', 'U01ZED']);
    expect(run.stdout).toBe('You have no requests.\n');
    expect((await runCli(app, ['requests', '--as', 'U01BOB'])).stdout).toBe(
      'No pending requests.\n',
    );
  });

  it('the totals row of "list pool" and "list mine" is their total, not the team', async () => {
    expect((await runCli(app, ['sync'])).code).toBe(0);
    expect((await runCli(app, ['claim', '+14155550142', '--as', 'U01CAROL'])).code).toBe(0);
    const pool = await runCli(app, ['list', 'pool']);
    expect(pool.stdout).toMatch(/^\(pool\)\s+4\s+\$5\.65$/m);
    expect(pool.stdout).toMatch(/^total\s+4\s+\$5\.65$/m);
    expect(pool.stdout).not.toMatch(/^team/m);
    const mine = await runCli(app, ['list', 'mine', '--as', 'U01CAROL']);
    expect(mine.stdout).toMatch(/^total\s+1\s+\$1\.00$/m);
    const all = await runCli(app, ['list', 'all']);
    expect(all.stdout).toMatch(/^team\s+5\s+\$6\.65$/m);
  });

  it('list: a full page names the command for the next one, which goes on to the last', async () => {
    expect((await runCli(app, ['sync'])).code).toBe(0);
    // Three numbers as a Telnyx sync records them: no price on record.
    const store = app.deps.store;
    await store.syncBegin('S-UNPRICED', 'sandbox', 'U01ADMIN', new Date());
    await store.syncBatch(
      'S-UNPRICED',
      'sandbox',
      ['+16505550001', '+16505550002', '+16505550003'].map((e) =>
        syncRow(e, { monthlyCost: null, upfrontCost: null }),
      ),
    );
    let words = ['list', 'all', '--limit', '3'];
    const pages: string[] = [];
    for (let i = 0; i < 5 && words.length > 0; i++) {
      const run = await runCli(app, words);
      expect(run.code).toBe(0);
      pages.push(run.stdout);
      const next = /Next page: (list .+)$/m.exec(run.stdout)?.[1];
      words = next ? next.split(' ') : [];
    }
    expect(pages).toHaveLength(3);
    expect(pages[0]).toMatch(/^Showing 3 of 8\. Next page: list all --after \+1\d{10} --limit 3$/m);
    expect(pages[2]).not.toContain('Next page');
    const shown = pages.flatMap((page) => page.match(/^\+1\d{10}/gm) ?? []);
    expect(shown).toHaveLength(8);
    expect(new Set(shown).size).toBe(8);
    // A page showing a number with no price on record says how the totals count it; others don't.
    for (const page of pages) {
      const unpriced = (page.match(/^\+1650555000[123] /gm) ?? []).length;
      if (unpriced === 0) expect(page).not.toContain('no price on record');
      else
        expect(page).toContain(
          `(${unpriced === 3 ? 'The numbers above have' : `${unpriced} of the numbers above ${unpriced === 1 ? 'has' : 'have'}`} no price on record; the totals count such numbers as $0.00)`,
        );
    }
    expect(pages.join('')).toContain('no price on record');
  });

  it('list narrowed to an area code says so in its totals, and an empty one says what to do', async () => {
    expect((await runCli(app, ['sync'])).code).toBe(0);
    const pool = await runCli(app, ['list', 'pool', '415']);
    expect(pool.code).toBe(0);
    expect(pool.stdout).toMatch(/^\+14155550142 /m);
    expect(pool.stdout).not.toMatch(/^\+1212/m);
    expect(pool.stdout).toContain('Monthly cost in area code 415');
    expect(pool.stdout).toMatch(/^total\s+1\s+\$1\.00$/m);
    const all = await runCli(app, ['list', 'all', '415']);
    expect(all.stdout).toMatch(/^total\s+1\s+\$1\.00$/m);
    expect(all.stdout).not.toMatch(/^team/m);
    const empty = await runCli(app, ['list', 'pool', '604']);
    expect(empty.stdout).toBe(
      'The pool has no numbers in area code 604. Search for one to buy: search 604\n',
    );
    // Past the last number: the end of the list, not an empty pool.
    const past = await runCli(app, ['list', 'pool', '--after', '+19995550000']);
    expect(past.stdout).toBe(
      'No more numbers after +19995550000: that was the end of the list. Start again with: list pool\n',
    );
    const bad = await runCli(app, ['list', 'pool', 'Boston']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('area: give a three-digit North American area code, e.g. 415');
  });

  it('list 415: the default scope in area code 415 (all for an admin, their own for a member)', async () => {
    expect((await runCli(app, ['sync'])).code).toBe(0);
    expect((await runCli(app, ['claim', '+14155550142', '--as', 'U01CAROL'])).code).toBe(0);
    // The local operator is an admin: every number in 415, Carol's included.
    const admin = await runCli(app, ['list', '415']);
    expect(admin.code).toBe(0);
    expect(admin.stdout).toBe((await runCli(app, ['list', 'all', '415'])).stdout);
    expect(admin.stdout).toMatch(/^\+14155550142 /m);
    expect(admin.stdout).not.toMatch(/^\+1212/m);
    const carol = await runCli(app, ['list', '415', '--as', 'U01CAROL']);
    expect(carol.code).toBe(0);
    expect(carol.stdout).toBe(
      (await runCli(app, ['list', 'mine', '415', '--as', 'U01CAROL'])).stdout,
    );
    expect(carol.stdout).toMatch(/^\+14155550142 /m);
    expect(carol.stdout).toMatch(/^total\s+1\s+\$1\.00$/m);
    // Alice has none in 415, and is not shown the pool's or Carol's; the pool has none left there.
    const alice = await runCli(app, ['list', '415', '--as', 'U01ALICE']);
    expect(alice.stdout).toBe(
      'You have no numbers in area code 415. Search for one to buy: search 415\n',
    );
    // In 212 the pool still has one: that comes before buying.
    const bob = await runCli(app, ['list', '212', '--as', 'U01BOB']);
    expect(bob.stdout).toBe(
      'You have no numbers in area code 212. The pool has 1 there, free to claim: list pool 212\n',
    );
    // A first word that is neither a scope nor an area code says what to type.
    const bad = await runCli(app, ['list', 'Boston']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '"Boston" is neither a scope (mine, pool or all) nor a three-digit area code. Type list 415, or list pool 415. Usage: list [mine|pool|all] [area code]',
    );
    const backwards = await runCli(app, ['list', '415', 'pool']);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain('The scope comes before the area code: list pool 415.');
  });

  it('counts in the sync and totals tables read with thousands separators', () => {
    const run = {
      id: 'S-1',
      carrier: 'telnyx' as const,
      startedBy: 'U01ADMIN',
      startedAt: new Date(),
      finishedAt: new Date(),
      status: 'succeeded' as const,
      seen: 100_000,
      new: 98_765,
      updated: 1_234,
      missing: 1_001,
      error: null,
    };
    const text = renderers.sync!({
      results: [{ carrier: 'telnyx', run, unchanged: 1 }],
      reconciled: [],
    } as never);
    expect(text).toMatch(/^telnyx\s+100,000\s+98,765\s+1,234\s+1\s+1,001$/m);
  });

  it('moving a linked number to another agent says which agent stops getting its calls', async () => {
    expect((await runCli(app, ['sync'])).code).toBe(0);
    expect((await runCli(app, ['claim', '+14155550142', '--as', 'U01CAROL'])).code).toBe(0);
    const link = (agent: string) =>
      runCli(app, ['link', '+14155550142', agent, '--as', 'U01CAROL']);
    expect((await link('retell:agent_sandbox_support')).stdout).toBe(
      'Linked +14155550142 to retell:agent_sandbox_support.\n',
    );
    expect((await link('vapi:asst_sandbox_survey')).stdout).toBe(
      'Linked +14155550142 to vapi:asst_sandbox_survey; retell:agent_sandbox_support no longer gets its calls.\n',
    );
    expect((await link('vapi:asst_sandbox_survey')).stdout).toBe(
      '+14155550142 was already linked to vapi:asst_sandbox_survey.\n',
    );
  });

  it('sync says new numbers are in the pool only when there are new numbers', async () => {
    const first = await runCli(app, ['sync']);
    expect(first.stdout).toContain('New numbers are in the pool: list pool');
    const again = await runCli(app, ['sync']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/sandbox\s+5\s+0\s+0\s+5\s+0/);
    expect(again.stdout).not.toContain('New numbers');
  });
  it('agents with every platform failing is a failure (exit 5) naming each, not an empty table', async () => {
    app.deps.agents = {
      retell: createSandboxAgents('retell', { faultRate: 1, faults: ['server_error'] }),
      vapi: createSandboxAgents('vapi', { faultRate: 1, faults: ['server_error'] }),
    };
    const run = await runCli(app, ['agents']);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^error: Every voice platform failed: retell: .+; vapi: .+\. Try again in a minute\.\n$/,
    );
    // One platform failing while the other has no agents: the list is empty, not a failure.
    app.deps.agents = {
      retell: createSandboxAgents('retell', { faultRate: 1, faults: ['server_error'] }),
      vapi: { ...createSandboxAgents('vapi'), listAgents: async () => [] },
    };
    const half = await runCli(app, ['agents']);
    expect(half.code).toBe(0);
    expect(half.stdout).toMatch(
      /^No voice agents yet: create one in Retell or VAPI.*\n\(retell left out: .+\)\n$/,
    );
    app.deps.agents = {};
    expect((await runCli(app, ['agents'])).stdout).toMatch(
      /^No voice agents yet: create one in Retell or VAPI/,
    );
  });
  it('an expired request says when it expired and how to ask again, in request and requests', async () => {
    const bought = await runCli(app, ['buy', '415', '--as', 'U01ALICE', '--json']);
    const { id, e164 } = JSON.parse(bought.stdout).result.request as { id: string; e164: string };
    // The test policy's requests wait 60 minutes.
    const later = new Date(Date.now() + 2 * 60 * 60_000);
    (app.deps as TestDeps).setNow(later);
    const run = await runCli(app, ['request', id]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^expired \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ before anyone decided; ask again with: buy \\${e164}$`,
        'm',
      ),
    );
    const list = await runCli(app, ['requests', 'all']);
    expect(list.stdout).toMatch(
      new RegExp(`^${id}\\s+expired .* expired \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ$`, 'm'),
    );
  });
  it('a purchase with no approvers configured says nobody can approve it, not "an approver runs"', async () => {
    app.deps.policy = { ...app.deps.policy, approvers: [] };
    const run = await runCli(app, ['buy', '415', '--as', 'U01ALICE']);
    expect(run.code, run.stderr).toBe(0);
    const id = /Request (R-\w+)/.exec(run.stdout)?.[1];
    expect(run.stdout).toContain(
      `; nobody can approve it yet.\nAn admin adds an approver to SWITCHBOARD_APPROVERS; then the approver runs: switchboard approve ${id}\n`,
    );
    expect(run.stdout).not.toMatch(/^An approver runs/m);
  });

  it('unclaim: one line that says the number is in the pool, who may take it and what it still costs', async () => {
    expect((await runCli(app, ['sync'])).code).toBe(0);
    const sandboxNote = '(sandbox numbers are pretend: nothing is billed)\n';
    expect((await runCli(app, ['claim', '+14155550142', '--as', 'U01CAROL'])).code).toBe(0);
    const own = await runCli(app, ['unclaim', '+14155550142', '--as', 'U01CAROL']);
    expect(own).toEqual({
      code: 0,
      stdout:
        '+14155550142 is back in the team pool: anyone can claim it (claim +14155550142). It still costs $1.00/mo; an admin can release it to stop that (release +14155550142).\n' +
        sandboxNote,
      stderr: '',
    });
    const pool = await runCli(app, ['list', 'pool']);
    expect(pool.stdout).toMatch(/^\+14155550142 .*\(pool\)\s+available/m);
    expect(pool.stdout).toMatch(/^total\s+5\s+\$6\.65$/m);

    // An admin taking back a member's number says whose it was; --json is one document.
    expect((await runCli(app, ['claim', '+14155550142', '--as', 'U01CAROL'])).code).toBe(0);
    const taken = await runCli(app, ['unclaim', '+14155550142', '--as', 'U01ADMIN']);
    expect(taken.stdout).toBe(
      '+14155550142 is back in the team pool (taken back from U01CAROL): anyone can claim it (claim +14155550142). It still costs $1.00/mo; an admin can release it to stop that (release +14155550142).\n' +
        sandboxNote,
    );
    expect((await runCli(app, ['claim', '+14155550142', '--as', 'U01CAROL'])).code).toBe(0);
    const json = await runCli(app, ['unclaim', '+14155550142', '--as', 'U01CAROL', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      command: 'unclaim',
      result: {
        number: { e164: '+14155550142', status: 'available', owner: null, monthlyCost: 1 },
        previousOwner: 'U01CAROL',
        wasYours: true,
      },
    });

    // A number with no price on record (a Telnyx sync) says so, rather than $0.00.
    const store = app.deps.store;
    await store.syncBegin('S-UNPRICED', 'sandbox', 'U01ADMIN', new Date());
    await store.syncBatch('S-UNPRICED', 'sandbox', [
      syncRow('+16505550001', { monthlyCost: null, upfrontCost: null }),
    ]);
    expect((await runCli(app, ['claim', '+16505550001', '--as', 'U01CAROL'])).code).toBe(0);
    expect((await runCli(app, ['unclaim', '+16505550001', '--as', 'U01CAROL'])).stdout).toContain(
      'It stays in the carrier account, so it still costs what the carrier charges for it; an admin can release it to stop that (release +16505550001).',
    );
  });

  it("unclaim refusals: exit 3 for someone else's number, 4 when linked, in the pool or unknown, 2 for bad input", async () => {
    expect((await runCli(app, ['sync'])).code).toBe(0);
    expect((await runCli(app, ['claim', '+14155550142', '--as', 'U01CAROL'])).code).toBe(0);
    const cases: Array<[string[], number, string]> = [
      [
        ['unclaim', '+14155550142', '--as', 'U01ALICE'],
        3,
        'error: +14155550142 belongs to U01CAROL: only they or an admin can unclaim it.\n',
      ],
      [
        ['unclaim', '+12125550117', '--as', 'U01ALICE'],
        4,
        'error: +12125550117 is already in the team pool: nobody holds it, so there is nothing to give back. To take it: claim +12125550117\n',
      ],
      [
        ['unclaim', '+19995550000', '--as', 'U01ALICE'],
        4,
        'error: +19995550000 is not one of our numbers, so there is nothing to give back. See yours with: list mine\n',
      ],
      [
        ['unclaim', '--as', 'U01ALICE'],
        2,
        'error: unclaim needs the number to give back to the pool, e.g. unclaim +14155550142. Usage: unclaim <+E.164>\n',
      ],
    ];
    for (const [argv, code, stderr] of cases)
      expect(await runCli(app, argv), argv.join(' ')).toEqual({ code, stdout: '', stderr });
    expect(
      (
        await runCli(app, [
          'link',
          '+14155550142',
          'retell:agent_sandbox_support',
          '--as',
          'U01CAROL',
        ])
      ).code,
    ).toBe(0);
    expect(await runCli(app, ['unclaim', '+14155550142', '--as', 'U01CAROL'])).toEqual({
      code: 4,
      stdout: '',
      stderr:
        'error: +14155550142 is linked to retell:agent_sandbox_support, so its calls would still reach that agent. Unlink it first (unlink +14155550142), then unclaim it.\n',
    });
    const refusal = await runCli(app, ['unclaim', '+14155550142', '--as', 'U01CAROL', '--json']);
    expect(refusal.code).toBe(4);
    expect(JSON.parse(refusal.stdout)).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });
});
