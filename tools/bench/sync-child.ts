/**
 * One sync benchmark in its own process, so its peak RSS is the sync's alone. The parent serves
 * the Telnyx-shaped scenario server; this process runs the real Telnyx adapter, the real `sync`
 * command and a fresh store, then prints one JSON line on stdout.
 *
 * Modes (BENCH_CONFIG, JSON):
 *   sync      a first sync into an empty store, then a second with nothing changed
 *   rowbyrow  the first sync of `limit` numbers, one upsert statement per number
 *   drain     the adapter's listOwned alone, no store: the API path's own wall time
 *   store     the store alone, no network: `batches` × 1,000 new numbers, shaped as the Telnyx
 *             adapter makes them, each written by `syncBatch` once the one before has finished
 *   create    creates and migrates the PGlite data folder `pgliteDir`, nothing else
 *
 * A new PGlite data folder costs about 850 MB of peak RSS (initdb in WebAssembly), far more than
 * opening an existing one (about 300 MB), so the parent creates the fresh store in a `create`
 * child and the sync child opens it: the sync's peak RSS is then the sync's, as with the CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createSandboxAgents } from '../../src/agents/sandbox-agents.js';
import { createTelnyxCarrier } from '../../src/carriers/telnyx-carrier.js';
import { runCommand } from '../../src/core/command.js';
import { sync, type SyncResult } from '../../src/core/commands/sync.js';
import { randomIds } from '../../src/core/ids.js';
import type { Carrier, Deps, SyncRow } from '../../src/core/ports.js';
import type { Actor } from '../../src/core/types.js';
import { migrate } from '../../src/store/migrate.js';
import { openPgliteExecutor } from '../../src/store/pglite-store.js';
import { openPostgresExecutor } from '../../src/store/postgres-store.js';
import type { SqlExecutor } from '../../src/store/sql.js';
import { SqlStore } from '../../src/store/sql-store.js';

export interface ChildConfig {
  mode: 'create' | 'sync' | 'rowbyrow' | 'drain' | 'store';
  /** The scenario server's base URL and key. */
  url: string;
  apiKey: string;
  /** 'pglite' (a fresh on-disk data folder) or a PostgreSQL server URL (a fresh database on it). */
  store: 'pglite' | { postgres: string };
  /** A data folder made by a `create` child; a new temporary one when omitted. */
  pgliteDir?: string;
  /** rowbyrow: stop after this many numbers. */
  limit?: number;
  /** store: how many batches of 1,000 to write. */
  batches?: number;
  /** store: how many of the first batches `firstBatchesMs` adds up (5 when omitted). */
  warmUpBatches?: number;
}

export interface ChildResult {
  mode: ChildConfig['mode'];
  store: 'pglite' | 'postgres';
  /** Peak resident set of this process, in MB. */
  maxRssMb: number;
  /** Peak resident set once the store was open and migrated, before any sync, in MB. */
  openRssMb?: number;
  firstMs?: number;
  first?: { seen: number; new: number; updated: number; missing: number };
  secondMs?: number;
  second?: { seen: number; new: number; updated: number; missing: number };
  /** Rows of switchboard.numbers whose xmin is newer than the second sync's start. */
  secondRowsWritten?: number;
  rows?: number;
  ms?: number;
  /** store: CPU time of this process (user + system) while writing, in ms. */
  cpuMs?: number;
  /** store: the median batch's wall time, in ms. */
  batchP50Ms?: number;
  /**
   * store: the first `warmUpBatches` batches' wall time together, in ms. On PGlite these run
   * while V8 is still compiling PostgreSQL's hot WebAssembly functions to optimised code.
   */
  firstBatchesMs?: number;
}

const ADMIN: Actor = { id: 'U0BENCHADMIN', surface: 'cli' };

interface OpenedStore {
  kind: 'pglite' | 'postgres';
  db: SqlExecutor;
  store: SqlStore;
  dispose(): Promise<void>;
}

async function openFreshStore(
  spec: ChildConfig['store'],
  pgliteDir?: string,
): Promise<OpenedStore> {
  if (spec === 'pglite') {
    const dir = pgliteDir ?? mkdtempSync(join(tmpdir(), 'switchboard-bench-pglite-'));
    const db = await openPgliteExecutor({ dataDir: dir });
    await migrate(db);
    return {
      kind: 'pglite',
      db,
      store: new SqlStore('pglite', db),
      dispose: async () => {
        await db.close();
        if (!pgliteDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `switchboard_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(spec.postgres, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(spec.postgres);
  url.pathname = `/${name}`;
  const db = openPostgresExecutor({ url: url.toString() });
  await migrate(db);
  return {
    kind: 'postgres',
    db,
    store: new SqlStore('postgres', db),
    dispose: async () => {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

function makeDeps(store: SqlStore, telnyx: Carrier): Deps {
  return {
    store,
    carriers: { telnyx },
    agents: { retell: createSandboxAgents('retell'), vapi: createSandboxAgents('vapi') },
    policy: {
      approvers: [],
      admins: [ADMIN.id],
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
}

const runOf = (result: SyncResult) => {
  const run = result.results[0]!.run;
  return { seen: run.seen, new: run.new, updated: run.updated, missing: run.missing };
};

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** One number, one statement: the upsert the prior systems ran per row (numbers table only). */
const ROW_UPSERT = `
insert into switchboard.numbers as n (e164, carrier, carrier_ref, carrier_account, status, country,
  region, locality, number_type, features, monthly_cost, upfront_cost, currency, source)
values ($1::text, 'telnyx', $2::text, $3::text, 'available', $4::text, $5::text, $6::text,
  coalesce($7::text, 'local'), array(select jsonb_array_elements_text($8::text::jsonb)),
  $9::numeric, $10::numeric, coalesce($11::text, 'USD'), 'sync')
on conflict (e164) where status <> 'released' do update
set carrier = excluded.carrier, carrier_ref = excluded.carrier_ref,
  carrier_account = excluded.carrier_account, country = coalesce(excluded.country, n.country),
  region = coalesce(excluded.region, n.region), locality = coalesce(excluded.locality, n.locality),
  number_type = excluded.number_type, features = excluded.features,
  monthly_cost = coalesce(excluded.monthly_cost, n.monthly_cost),
  upfront_cost = coalesce(excluded.upfront_cost, n.upfront_cost), currency = excluded.currency,
  updated_at = now()
where (n.carrier, n.carrier_ref, n.carrier_account, n.number_type, n.features, n.currency)
  is distinct from (excluded.carrier, excluded.carrier_ref, excluded.carrier_account,
    excluded.number_type, excluded.features, excluded.currency)`;

const STORE_BATCH = 1_000;

/** A number as the Telnyx adapter's `listOwned` yields it (no prices, no region or locality). */
function ownedRow(n: number): SyncRow {
  return {
    e164: `+1415${String(n).padStart(7, '0')}`,
    carrierRef: `2${String(n).padStart(18, '0')}`,
    carrierAccount: null,
    country: 'US',
    region: null,
    locality: null,
    numberType: 'local',
    features: n % 2 === 0 ? ['voice', 'sms'] : ['voice'],
    monthlyCost: null,
    upfrontCost: null,
    currency: null,
  };
}

/** The store's share of a first sync: batches of new numbers written one after another. */
async function writeBatches(
  store: SqlStore,
  batches: number,
  warmUpBatches: number,
): Promise<Partial<ChildResult>> {
  const runId = `bench-${process.pid}`;
  const begun = await store.syncBegin(runId, 'telnyx', ADMIN.id, new Date());
  if (begun.status !== 'started') throw new Error(`sync run did not start: ${begun.status}`);
  const times: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let b = 0; b < batches; b++) {
    const rows = Array.from({ length: STORE_BATCH }, (_, i) => ownedRow(b * STORE_BATCH + i));
    const batchStart = performance.now();
    const counts = await store.syncBatch(runId, 'telnyx', rows);
    times.push(performance.now() - batchStart);
    if (counts.new !== STORE_BATCH) throw new Error(`batch ${b} wrote ${counts.new} new numbers`);
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const firstBatchesMs = times.slice(0, warmUpBatches).reduce((sum, t) => sum + t, 0);
  times.sort((a, c) => a - c);
  return {
    rows: batches * STORE_BATCH,
    ms,
    cpuMs: (used.user + used.system) / 1000,
    batchP50Ms: times[Math.floor(times.length / 2)]!,
    firstBatchesMs,
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as ChildConfig;
  const telnyx = createTelnyxCarrier({ apiKey: config.apiKey, baseUrl: config.url });
  const result: ChildResult = {
    mode: config.mode,
    store: config.store === 'pglite' ? 'pglite' : 'postgres',
    maxRssMb: 0,
  };

  if (config.mode === 'drain') {
    const [rows, ms] = await timed(async () => {
      let count = 0;
      for await (const page of telnyx.listOwned()) count += page.length;
      return count;
    });
    result.rows = rows;
    result.ms = ms;
  } else if (config.mode === 'create') {
    const opened = await openFreshStore('pglite', config.pgliteDir);
    await opened.db.close();
  } else {
    const opened = await openFreshStore(config.store, config.pgliteDir);
    result.openRssMb = process.resourceUsage().maxRSS / 1024;
    try {
      if (config.mode === 'store') {
        Object.assign(
          result,
          await writeBatches(opened.store, config.batches ?? 100, config.warmUpBatches ?? 5),
        );
      } else if (config.mode === 'sync') {
        const deps = makeDeps(opened.store, telnyx);
        const [first, firstMs] = await timed(() =>
          runCommand(deps, sync, ADMIN, { carrier: 'telnyx' }),
        );
        result.firstMs = firstMs;
        result.first = runOf(first);
        // Transaction ids are handed out in order: any row the second sync writes (insert or
        // update, PGlite and PostgreSQL alike) gets an xmin above this one.
        const [mark] = await opened.db.query<{ x: string }>(
          'select (txid_current() % 4294967296)::text as x',
        );
        const [second, secondMs] = await timed(() =>
          runCommand(deps, sync, ADMIN, { carrier: 'telnyx' }),
        );
        result.secondMs = secondMs;
        result.second = runOf(second);
        const [written] = await opened.db.query<{ n: string }>(
          'select count(*)::text as n from switchboard.numbers where xmin::text::bigint > $1::bigint',
          [mark!.x],
        );
        result.secondRowsWritten = Number(written!.n);
      } else {
        const limit = config.limit ?? 10_000;
        const [rows, ms] = await timed(async () => {
          let count = 0;
          for await (const page of telnyx.listOwned()) {
            for (const row of page) {
              if (count >= limit) break;
              await opened.db.query(ROW_UPSERT, [
                row.e164,
                row.carrierRef,
                row.carrierAccount,
                row.country,
                row.region,
                row.locality,
                row.numberType,
                JSON.stringify(row.features),
                row.monthlyCost,
                row.upfrontCost,
                row.currency,
              ]);
              count++;
            }
            if (count >= limit) break;
          }
          return count;
        });
        result.rows = rows;
        result.ms = ms;
      }
    } finally {
      await opened.dispose();
    }
  }
  // maxRSS is in kilobytes.
  result.maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
