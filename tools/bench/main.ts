/**
 * The issue-3 benchmarks: a 100,000-number sync from a Telnyx-shaped scenario server through the
 * real adapter and the real `sync` command (PGlite, and PostgreSQL when TEST_DATABASE_URL is set),
 * and a search over two carriers of different latency. Prints one JSON document of result rows on
 * stdout for tools/bench.mjs; figures only, nothing asserted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import type { ChildConfig, ChildResult } from './sync-child.js';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  goal: string;
  met: boolean | null;
  /** Decimals to print; 0 when omitted. */
  digits?: number;
}

const NUMBERS = 100_000;
const PAGE_SIZE = 250; // the Telnyx adapter's page[size]
const PAGE_LATENCY_MS = 20;
const PAGE_CONCURRENCY = 4; // the Telnyx adapter's default pageConcurrency (src/app.ts sets none)
const ROW_BY_ROW_SUBSET = 10_000;
const SEARCH_RUNS = 5;

const childPath = fileURLToPath(new URL('./sync-child.js', import.meta.url));
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** A fresh, migrated PGlite data folder, made by its own process (see sync-child.ts). */
async function freshPgliteDir(): Promise<{ dir: string; createRssMb: number }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'switchboard-bench-')), 'data');
  const created = await runChild({
    mode: 'create',
    url: '',
    apiKey: '',
    store: 'pglite',
    pgliteDir: dir,
  });
  return { dir, createRssMb: created.maxRssMb };
}

/** Runs one child asynchronously: this process keeps serving the scenario server meanwhile. */
function runChild(config: ChildConfig): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childPath], {
      env: { ...process.env, BENCH_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line) reject(new Error(`bench child ${config.mode} exited with ${code}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

async function syncBench(rows: BenchRow[]): Promise<void> {
  const server = await startTelnyxScenarioServer({
    ownedCount: NUMBERS,
    latencyMs: PAGE_LATENCY_MS,
  });
  const pages = Math.ceil(NUMBERS / PAGE_SIZE);
  const floorMs = (pages * PAGE_LATENCY_MS) / PAGE_CONCURRENCY;
  const base = { url: server.url, apiKey: SCENARIO_API_KEY };
  try {
    rows.push({
      name: `sync API floor: ${pages} pages × ${PAGE_LATENCY_MS} ms ÷ ${PAGE_CONCURRENCY} in flight`,
      value: floorMs,
      unit: 'ms',
      goal: 'informational',
      met: null,
    });
    log('listOwned drain (no store)');
    const drain = await runChild({ ...base, mode: 'drain', store: 'pglite' });
    rows.push({
      name: `listOwned of ${NUMBERS.toLocaleString('en')} numbers alone (no store)`,
      value: drain.ms!,
      unit: 'ms',
      goal: 'informational',
      met: null,
    });
    const stores: ChildConfig['store'][] = ['pglite'];
    if (process.env.TEST_DATABASE_URL) stores.push({ postgres: process.env.TEST_DATABASE_URL });
    for (const store of stores) {
      const label = store === 'pglite' ? 'PGlite' : 'PostgreSQL';
      log(`sync of ${NUMBERS} numbers on ${label}`);
      const fresh = store === 'pglite' ? await freshPgliteDir() : null;
      if (fresh)
        rows.push({
          name: 'PGlite: peak RSS of the process that creates the fresh store (initdb, migrate)',
          value: fresh.createRssMb,
          unit: 'MB',
          goal: 'informational',
          met: null,
        });
      const result = await runChild({
        ...base,
        mode: 'sync',
        store,
        ...(fresh ? { pgliteDir: fresh.dir } : {}),
      }).finally(() => fresh && rmSync(dirname(fresh.dir), { recursive: true, force: true }));
      if (result.first?.new !== NUMBERS)
        log(`warning: the first sync on ${label} saw ${JSON.stringify(result.first)}`);
      const ratio = result.firstMs! / floorMs;
      rows.push(
        {
          name: `sync ${NUMBERS.toLocaleString('en')} numbers, ${label}: wall time (first sync)`,
          value: result.firstMs!,
          unit: 'ms',
          goal: `≤ ${(1.3 * floorMs).toFixed(0)} ms`,
          met: result.firstMs! <= 1.3 * floorMs,
        },
        {
          name: `sync, ${label}: ratio to the API floor`,
          value: ratio,
          unit: '×',
          goal: '≤ 1.3×',
          met: ratio <= 1.3,
          digits: 2,
        },
        {
          name: `sync, ${label}: RSS of the syncing process with the store open, before syncing`,
          value: result.openRssMb!,
          unit: 'MB',
          goal: 'informational',
          met: null,
        },
        {
          name: `sync, ${label}: peak RSS of the syncing process (both syncs)`,
          value: result.maxRssMb,
          unit: 'MB',
          goal: '< 300 MB',
          met: result.maxRssMb < 300,
        },
        {
          name: `second sync, nothing changed, ${label}: wall time`,
          value: result.secondMs!,
          unit: 'ms',
          goal: 'informational',
          met: null,
        },
        {
          name: `second sync, nothing changed, ${label}: rows written to numbers (xmin)`,
          value: result.secondRowsWritten!,
          unit: 'rows',
          goal: '0',
          met: result.secondRowsWritten === 0,
        },
      );
      log(`row by row, ${ROW_BY_ROW_SUBSET} numbers on ${label}`);
      const freshRows = store === 'pglite' ? await freshPgliteDir() : null;
      const single = await runChild({
        ...base,
        mode: 'rowbyrow',
        store,
        limit: ROW_BY_ROW_SUBSET,
        ...(freshRows ? { pgliteDir: freshRows.dir } : {}),
      }).finally(
        () => freshRows && rmSync(dirname(freshRows.dir), { recursive: true, force: true }),
      );
      const extrapolated = (single.ms! * NUMBERS) / single.rows!;
      const speedup = extrapolated / result.firstMs!;
      rows.push(
        {
          name: `row by row, ${label}: first ${single.rows!.toLocaleString('en')} numbers, one upsert each`,
          value: single.ms!,
          unit: 'ms',
          goal: 'informational',
          met: null,
        },
        {
          name: `row by row, ${label}: extrapolated ×${NUMBERS / single.rows!} to ${NUMBERS.toLocaleString('en')}`,
          value: extrapolated,
          unit: 'ms',
          goal: 'informational',
          met: null,
        },
        {
          name: `sync, ${label}: batched speed-up over row by row (extrapolated)`,
          value: speedup,
          unit: '×',
          goal: '≥ 10×',
          met: speedup >= 10,
          digits: 1,
        },
      );
    }
  } finally {
    await server.close();
  }
}

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

const rows: BenchRow[] = [];
const only = process.argv[2];
if (only !== 'search') await syncBench(rows);
if (only !== 'sync') await searchBench(rows);
process.stdout.write(`${JSON.stringify(rows)}\n`);
