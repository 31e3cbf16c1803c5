/**
 * Issue 3: a sync of 100,000 numbers from a Telnyx-shaped scenario server (250 a page, 20 ms a
 * page) through the real Telnyx adapter and the real `sync` command, on PGlite and, when
 * TEST_DATABASE_URL is set, on PostgreSQL. Each sync runs in its own process (sync-child.ts) so
 * that its peak RSS is its own; this process serves the scenario server.
 *
 * The scenario server answers each page 20 ms after it arrives (its own work inside those 20 ms,
 * as a real API's servers would have it). The floor is the API's own limit: pages × latency ÷ the
 * pages the adapter keeps in flight
 * (400 × 20 ms ÷ 4 = 2,000 ms). Goals: within 1.3× of it, peak RSS under 300 MB, 0 rows written
 * by a second sync with nothing changed, at least 10× faster than one upsert per number.
 *
 * For each store it also writes the same 100,000 numbers with no network at all ("the store
 * alone"): the store's own share of a first sync, to set beside the API floor. On PGlite the
 * database runs on the syncing process's one thread, so that share and the reading add up.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SCENARIO_API_KEY,
  startTelnyxScenarioServer,
} from '../../test/helpers/telnyx-scenario-server.js';
import type { ChildConfig, ChildResult } from './sync-child.js';
import type { BenchRow } from './suites.js';

const NUMBERS = 100_000;
const PAGE_SIZE = 250; // the Telnyx adapter's page[size]
const PAGE_LATENCY_MS = 20;
const PAGE_CONCURRENCY = 4; // the Telnyx adapter's default pageConcurrency (src/app.ts sets none)
const ROW_BY_ROW_SUBSET = 10_000;
const WARM_UP_BATCHES = 5; // the store alone: the first batches, added up

const childPath = fileURLToPath(new URL('./sync-child.js', import.meta.url));
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

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
    // The drain also fills the scenario server's page cache (test/helpers/telnyx-scenario-server.ts):
    // every sync after it is served from memory, so the server's own JSON work, which a real API
    // does on its own machines, takes little of this machine's two cores.
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
      log(`the store alone on ${label}: ${NUMBERS / 1000} batches of 1,000, no network`);
      const freshStore = store === 'pglite' ? await freshPgliteDir() : null;
      const alone = await runChild({
        ...base,
        mode: 'store',
        store,
        batches: NUMBERS / 1000,
        warmUpBatches: WARM_UP_BATCHES,
        ...(freshStore ? { pgliteDir: freshStore.dir } : {}),
      }).finally(
        () => freshStore && rmSync(dirname(freshStore.dir), { recursive: true, force: true }),
      );
      rows.push(
        {
          name: `the store alone, ${label}: ${NUMBERS.toLocaleString('en')} new numbers in batches of 1,000, no network`,
          value: alone.ms!,
          unit: 'ms',
          goal: 'informational',
          met: null,
        },
        {
          name: `the store alone, ${label}: median batch of 1,000`,
          value: alone.batchP50Ms!,
          unit: 'ms',
          goal: 'informational',
          met: null,
          digits: 1,
        },
        {
          // On PGlite the first batches run before V8 has optimised PostgreSQL's WebAssembly:
          // the warm-up every first sync in a new process pays (README, Performance).
          name: `the store alone, ${label}: its first ${WARM_UP_BATCHES} batches together (warm-up; compare ${WARM_UP_BATCHES} × the median batch)`,
          value: alone.firstBatchesMs!,
          unit: 'ms',
          goal: 'informational',
          met: null,
        },
        {
          name: `the store alone, ${label}: CPU time of the syncing process${store === 'pglite' ? ' (the database runs in it)' : ' (the server is another process)'}`,
          value: alone.cpuMs!,
          unit: 'ms',
          goal: 'informational',
          met: null,
        },
      );
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

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // Each figure is also logged as it is measured: a long run cut short still tells something.
  const push = rows.push.bind(rows);
  rows.push = (...items: BenchRow[]) => {
    for (const row of items) log(`${row.name}: ${row.value.toFixed(row.digits ?? 0)} ${row.unit}`);
    return push(...items);
  };
  await syncBench(rows);
  return rows;
}
