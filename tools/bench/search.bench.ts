/**
 * Issue 3: a search over two carriers answering in 300 ms and 500 ms (two Telnyx-shaped scenario
 * servers through the real adapter, one named twilio), against the slower one alone. Goal: within
 * 1.1× of the slower one, i.e. the carriers are asked in parallel.
 */
import { createSandboxAgents } from '../../src/agents/sandbox-agents.js';
import { createTelnyxCarrier } from '../../src/carriers/telnyx-carrier.js';
import { runCommand } from '../../src/core/command.js';
import { search } from '../../src/core/commands/search.js';
import { randomIds } from '../../src/core/ids.js';
import type { Carrier, Deps } from '../../src/core/ports.js';
import type { Actor } from '../../src/core/types.js';
import { openPgliteStore } from '../../src/store/pglite-store.js';
import {
  SCENARIO_API_KEY,
  startTelnyxScenarioServer,
} from '../../test/helpers/telnyx-scenario-server.js';
import type { BenchRow } from './suites.js';

const SEARCH_RUNS = 5;
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** The Telnyx adapter under another carrier's name: two real HTTP carriers in one Deps. */
function renamed(carrier: Carrier, name: Carrier['name']): Carrier {
  return new Proxy(carrier, {
    get: (target, key, receiver) => (key === 'name' ? name : Reflect.get(target, key, receiver)),
  });
}

async function searchBench(rows: BenchRow[]): Promise<void> {
  const fast = await startTelnyxScenarioServer({ latencyMs: 300 });
  const slow = await startTelnyxScenarioServer({ latencyMs: 500 });
  const store = await openPgliteStore();
  try {
    const actor: Actor = { id: 'U0BENCH', surface: 'cli' };
    const deps: Deps = {
      store,
      carriers: {
        telnyx: createTelnyxCarrier({ apiKey: SCENARIO_API_KEY, baseUrl: fast.url }),
        twilio: renamed(
          createTelnyxCarrier({ apiKey: SCENARIO_API_KEY, baseUrl: slow.url }),
          'twilio',
        ),
      },
      agents: { retell: createSandboxAgents('retell'), vapi: createSandboxAgents('vapi') },
      policy: {
        approvers: [],
        admins: [],
        allowSelfApproval: false,
        autoApproveUnderMonthly: null,
        memberNumberCap: null,
        monthlyBudget: null,
        requestTtlMinutes: 60,
        quoteTtlMinutes: 30,
      },
      clock: { now: () => new Date() },
      ids: randomIds,
    };
    const time = async (input: Record<string, unknown>) => {
      const start = performance.now();
      await runCommand(deps, search, actor, input);
      return performance.now() - start;
    };
    log('search over two carriers (300 ms, 500 ms)');
    await time({ query: '415' }); // warm-up: SDK clients, connections, the store's first writes
    const slowAlone: number[] = [];
    const both: number[] = [];
    for (let i = 0; i < SEARCH_RUNS; i++) {
      slowAlone.push(await time({ query: '415', carrier: 'twilio' }));
      both.push(await time({ query: '415' }));
    }
    const ratio = median(both) / median(slowAlone);
    rows.push(
      {
        name: `search 415 on the 500 ms carrier alone, median of ${SEARCH_RUNS}`,
        value: median(slowAlone),
        unit: 'ms',
        goal: 'informational',
        met: null,
      },
      {
        name: `search 415 over two carriers (300 ms, 500 ms), median of ${SEARCH_RUNS}`,
        value: median(both),
        unit: 'ms',
        goal: `≤ ${(1.1 * median(slowAlone)).toFixed(0)} ms`,
        met: ratio <= 1.1,
      },
      {
        name: 'search over two carriers: ratio to the slower one alone',
        value: ratio,
        unit: '×',
        goal: '≤ 1.1×',
        met: ratio <= 1.1,
        digits: 2,
      },
    );
  } finally {
    await store.close();
    await fast.close();
    await slow.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  await searchBench(rows);
  return rows;
}
