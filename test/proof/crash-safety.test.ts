/**
 * Crash safety (issue 8, item 1). The real CLI is killed with SIGKILL at each step of a purchase,
 * a release and a link, then started again on the same data folder. Every time: at most one number
 * at the carrier, recorded at most once, and a state a user can see (`request R-…`, `show +1…`),
 * with the step a user takes to finish (run `sync` later, or run the command again).
 *
 * Kill points: SWITCHBOARD_SANDBOX_CRASH_AT (the sandbox carrier and agents kill the process at
 * an exact step) and, for "after our record is written", the test driver's
 * PROOF_CRASH_AFTER_STORE (kills right after that store call committed). Waiting out reconcile's
 * one-minute staleness is PROOF_CLOCK_OFFSET_MS: the `sync` a user runs two minutes later.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxCarrierState } from '../../src/carriers/sandbox-carrier.js';
import type { SandboxAgentsState } from '../../src/agents/sandbox-agents.js';
import type { NumberRecord, PurchaseRequest } from '../../src/core/types.js';
import { bundleDriver, runCli } from './cli-process.js';
import type { CliRun } from './cli-process.js';

let root: string;
let driver: string;
let template: string;

const LATER = { PROOF_CLOCK_OFFSET_MS: String(2 * 60_000) };
const POOL_NUMBER = '+14155550142';

class Folder {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  env(extra: Record<string, string> = {}) {
    return {
      HOME: this.dir,
      SWITCHBOARD_DATA_DIR: join(this.dir, 'data'),
      SWITCHBOARD_APPROVERS: 'U01BOB',
      ...extra,
    };
  }
  run(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
    return runCli(driver, this.env(extra), args);
  }
  async json<T>(args: string[], extra: Record<string, string> = {}): Promise<T> {
    const run = await this.run([...args, '--json'], extra);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const parsed = JSON.parse(run.stdout) as { ok: boolean; result: T; error?: unknown };
    expect(parsed.ok, run.stdout).toBe(true);
    return parsed.result;
  }
  /** Runs a command that must die at the kill point. */
  async crash(args: string[], extra: Record<string, string>): Promise<void> {
    const run = await this.run(args, extra);
    expect(run.signal, `expected a SIGKILL, got exit ${run.code}: ${run.stdout}${run.stderr}`).toBe(
      'SIGKILL',
    );
  }
  carrier(): SandboxCarrierState {
    return JSON.parse(readFileSync(join(this.dir, 'data/sandbox-carrier.json'), 'utf8'));
  }
  retell(): SandboxAgentsState {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'data/sandbox-retell.json'), 'utf8'));
    } catch {
      return { links: {}, sequence: 0 };
    }
  }
  request(id: string): Promise<{ request: PurchaseRequest }> {
    return this.json(['request', id]);
  }
  async numbers(): Promise<NumberRecord[]> {
    return (await this.json<{ numbers: NumberRecord[] }>(['list', 'all'])).numbers;
  }
  async show(e164: string): Promise<NumberRecord> {
    return (await this.json<{ number: NumberRecord }>(['show', e164])).number;
  }
}

let count = 0;
function folder(): Folder {
  const dir = join(root, `case-${count++}`);
  cpSync(template, dir, { recursive: true });
  rmSync(join(dir, 'data/switchboard.lock'), { force: true });
  return new Folder(dir);
}

/** Pending purchase requests in the template, one per purchase case (each its own number). */
const requestIds: Record<string, string> = {};
const PURCHASE_AREAS = ['415', '212', '312', '213'] as const;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
  driver = await bundleDriver();
  // One data folder, copied per case: the sandbox account imported (its numbers in the pool), a
  // pool number claimed by Alice, and one pending purchase request per purchase case.
  template = join(root, 'template');
  const seed = new Folder(template);
  await seed.json(['sync']);
  await seed.json(['claim', POOL_NUMBER, '--as', 'U01ALICE']);
  for (const area of PURCHASE_AREAS) {
    const { request } = await seed.json<{ request: PurchaseRequest }>([
      'buy',
      area,
      '--as',
      'U01ALICE',
      '--reason',
      'crash test',
    ]);
    requestIds[area] = request.id;
  }
}, 300_000);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(driver, { force: true });
});

/** Orders and owned numbers at the carrier that carry a request's reference. */
function atCarrier(state: SandboxCarrierState, requestId: string) {
  return {
    orders: Object.values(state.orders).filter((o) => o.reference === requestId).length,
    owned: Object.values(state.owned).filter((o) => o.reference === requestId).length,
  };
}

describe('crash safety: purchase (SIGKILL, then restart)', { timeout: 240_000 }, () => {
  const cases = [
    {
      area: '415',
      point: 'after the intent is written, before the carrier acts',
      knob: { SWITCHBOARD_SANDBOX_CRASH_AT: 'order:before' },
      seenAfterRestart: 'executing',
      finalStatus: 'failed',
      finalCode: 'NOT_ORDERED',
      bought: 0,
    },
    {
      area: '212',
      point: 'after the carrier accepted the order, before our record is written',
      knob: { SWITCHBOARD_SANDBOX_CRASH_AT: 'order:after' },
      seenAfterRestart: 'executing',
      finalStatus: 'done',
      finalCode: null,
      bought: 1,
    },
    {
      area: '312',
      point: 'after our record is written, before the audit event and the answer',
      knob: { PROOF_CRASH_AFTER_STORE: 'completePurchase' },
      seenAfterRestart: 'done',
      finalStatus: 'done',
      finalCode: null,
      bought: 1,
    },
  ] as const;

  for (const c of cases) {
    it(`killed ${c.point}: one order at most, recorded once, settled by the next sync`, async () => {
      const f = folder();
      const id = requestIds[c.area]!;
      await f.crash(['approve', id, '--as', 'U01BOB'], c.knob);

      // Restarted: the user sees where the request stands, and approving again is refused
      // (the request is no longer pending), so nothing more can be ordered.
      const again = await f.run(['approve', id, '--as', 'U01BOB']);
      expect(again.code).toBe(4);
      expect(again.stderr).toContain(`Request ${id} is already ${c.seenAfterRestart}`);

      // A user runs sync a couple of minutes later (serve runs the same reconcile at start).
      const synced = await f.json<{ reconciled: PurchaseRequest[] }>(['sync'], LATER);
      if (c.seenAfterRestart === 'executing')
        expect(synced.reconciled.map((r) => r.id)).toContain(id);
      const settled = (await f.request(id)).request;
      expect(settled.status).toBe(c.finalStatus);
      expect(settled.errorCode).toBe(c.finalCode);

      const carrier = atCarrier(f.carrier(), id);
      expect(carrier).toEqual({ orders: c.bought, owned: c.bought });
      const records = (await f.numbers()).filter((n) => n.requestId === id);
      expect(records).toHaveLength(c.bought);
      if (c.bought) {
        expect(records[0]).toMatchObject({
          e164: settled.e164,
          owner: 'U01ALICE',
          status: 'assigned',
        });
        expect(settled.numberId).toBe(records[0]!.id);
      }
    });
  }

  it('killed after the carrier accepted, and a sync runs before reconcile may: the number waits for its purchase, not in the pool', async () => {
    const f = folder();
    const id = requestIds['213']!;
    await f.crash(['approve', id, '--as', 'U01BOB'], {
      SWITCHBOARD_SANDBOX_CRASH_AT: 'order:after',
    });
    const e164 = (await f.request(id)).request.e164;
    await f.json(['sync']); // at once: the request is still `executing`, too fresh to reconcile
    // The sync saw the number at the carrier but left it to its purchase: nobody can claim it.
    expect((await f.numbers()).filter((n) => n.e164 === e164)).toEqual([]);
    await f.json(['sync'], LATER);
    const settled = (await f.request(id)).request;
    expect(settled.status).toBe('done');
    expect(atCarrier(f.carrier(), id)).toEqual({ orders: 1, owned: 1 });
    const records = (await f.numbers()).filter((n) => n.e164 === settled.e164);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ owner: 'U01ALICE', status: 'assigned' });
  });
});

describe('crash safety: release (SIGKILL, then restart)', { timeout: 240_000 }, () => {
  it('killed before the carrier acts: still ours and still at the carrier; releasing again finishes it', async () => {
    const f = folder();
    await f.crash(['release', POOL_NUMBER, '--as', 'U01ALICE'], {
      SWITCHBOARD_SANDBOX_CRASH_AT: 'release:before',
    });
    expect((await f.show(POOL_NUMBER)).status).toBe('assigned');
    expect(f.carrier().owned[POOL_NUMBER]).toBeDefined();
    const released = await f.json<{ number: NumberRecord }>([
      'release',
      POOL_NUMBER,
      '--as',
      'U01ALICE',
    ]);
    expect(released.number.status).toBe('released');
    expect(f.carrier().owned[POOL_NUMBER]).toBeUndefined();
  });

  it('killed after the carrier released it, before our record: releasing again records it', async () => {
    const f = folder();
    await f.crash(['release', POOL_NUMBER, '--as', 'U01ALICE'], {
      SWITCHBOARD_SANDBOX_CRASH_AT: 'release:after',
    });
    // Restarted: our record still says assigned; the carrier no longer has it (nothing is billed).
    expect((await f.show(POOL_NUMBER)).status).toBe('assigned');
    expect(f.carrier().owned[POOL_NUMBER]).toBeUndefined();
    // Releasing again finds nothing left at the carrier and records the number as released.
    const again = await f.run(['release', POOL_NUMBER, '--as', 'U01ALICE']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/no longer in the sandbox account.*recorded as released/);
    expect((await f.show(POOL_NUMBER)).status).toBe('released');
    // A later sync has nothing to mark missing.
    const synced = await f.json<{ results: Array<{ run: { missing: number } }> }>(['sync']);
    expect(synced.results[0]!.run.missing).toBe(0);
  });

  it('killed after our record is written: released at both ends, recorded once', async () => {
    const f = folder();
    await f.crash(['release', POOL_NUMBER, '--as', 'U01ALICE'], {
      PROOF_CRASH_AFTER_STORE: 'releaseNumber',
    });
    expect((await f.show(POOL_NUMBER)).status).toBe('released');
    expect(f.carrier().owned[POOL_NUMBER]).toBeUndefined();
  });
});

describe('crash safety: link (SIGKILL, then restart)', { timeout: 240_000 }, () => {
  const AGENT = 'retell:agent_sandbox_support';
  const cases = [
    {
      point: 'before the platform acts',
      knob: { SWITCHBOARD_SANDBOX_CRASH_AT: 'link:before' },
      platform: false,
      ours: false,
    },
    {
      point: 'after the platform linked it, before our record',
      knob: { SWITCHBOARD_SANDBOX_CRASH_AT: 'link:after' },
      platform: true,
      ours: false,
    },
    {
      point: 'after our record is written',
      knob: { PROOF_CRASH_AFTER_STORE: 'linkNumber' },
      platform: true,
      ours: true,
    },
  ] as const;
  for (const c of cases) {
    it(`killed ${c.point}: linking again converges on one link at both ends`, async () => {
      const f = folder();
      await f.crash(['link', POOL_NUMBER, AGENT, '--as', 'U01ALICE'], c.knob);
      const seen = await f.show(POOL_NUMBER);
      expect(seen.agent !== null).toBe(c.ours);
      expect(Boolean(f.retell().links[POOL_NUMBER])).toBe(c.platform);
      const refBefore = f.retell().links[POOL_NUMBER]?.ref;

      const again = await f.json<{ number: NumberRecord; changed: boolean }>([
        'link',
        POOL_NUMBER,
        AGENT,
        '--as',
        'U01ALICE',
      ]);
      expect(again.changed).toBe(!c.ours);
      expect(again.number.agent).toMatchObject({
        platform: 'retell',
        agentId: 'agent_sandbox_support',
      });
      const links = f.retell().links;
      expect(Object.keys(links)).toEqual([POOL_NUMBER]);
      if (refBefore) expect(links[POOL_NUMBER]!.ref).toBe(refBefore);
      expect(again.number.agent?.ref).toBe(links[POOL_NUMBER]!.ref);
    });
  }
});
