/**
 * Test databases: PGlite from the shared migrated template (always), and a fresh PostgreSQL
 * database per call on the server TEST_DATABASE_URL names (when it is set).
 */
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { inject } from 'vitest';
import type { SqlStore } from '../../src/store/sql-store.js';
import { openPgliteStore } from '../../src/store/pglite-store.js';
import { openPostgresStore } from '../../src/store/postgres-store.js';
import { freshSupabase } from './postgrest-fake.js'; // issue 7

let template: Blob | undefined;

export async function freshPglite(): Promise<SqlStore> {
  template ??= new Blob([readFileSync(inject('pgliteTemplate'))]);
  return openPgliteStore({ loadDataDir: template, skipMigrate: true });
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

let counter = 0;

/** A new, empty database on the test server, named `${prefix}_…`: its URL, and a drop. */
export async function createTestDatabase(
  prefix = 'switchboard_test',
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * Resolves once some backend of `sql`'s database is waiting on a lock held by another transaction;
 * throws, naming `waiter`, if none does within about five seconds.
 */
export async function waitForLockWait(sql: postgres.Sql, waiter: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const rows = await sql<{ n: string }[]>`
      select count(*)::text as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`;
    if (rows[0]?.n !== '0') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${waiter} never waited on the change in flight: it went on without it`);
}

/** A store on a new database of its own; its close() drops the database too. */
async function postgresStoreOnNewDatabase(
  prefix: string,
  options: { max: number; skipMigrate?: boolean },
): Promise<SqlStore> {
  const db = await createTestDatabase(prefix);
  const store = await openPostgresStore({ url: db.url, ...options });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await db.drop();
  };
  return store;
}

/** A new, empty, migrated database on the test server; dropped by the returned store's close(). */
export function freshPostgres(): Promise<SqlStore> {
  return postgresStoreOnNewDatabase('switchboard_test', { max: 20 });
}

/** The stores every contract and race test runs on: PGlite always, PostgreSQL when configured. */
export const STORES: Array<{ name: string; make: () => Promise<SqlStore>; skip: boolean }> = [
  { name: 'pglite', make: freshPglite, skip: false },
  { name: 'postgres', make: freshPostgres, skip: !TEST_DATABASE_URL },
  // issue 7: the supabase-js store through a PostgREST fake (test/helpers/postgrest-fake.ts)
  { name: 'supabase', make: () => freshSupabase(freshPostgres), skip: !TEST_DATABASE_URL },
];

/**
 * The stores a migration's upgrade test runs on: an empty database no migration has run on yet
 * (the test migrates it as far as it needs). PGlite always, PostgreSQL when configured; close()
 * drops the PostgreSQL database.
 */
export const UNMIGRATED_STORES: Array<{
  name: string;
  make: () => Promise<SqlStore>;
  skip: boolean;
}> = [
  { name: 'pglite', make: () => openPgliteStore({ skipMigrate: true }), skip: false },
  {
    name: 'postgres',
    make: () => postgresStoreOnNewDatabase('switchboard_unmigrated', { max: 2, skipMigrate: true }),
    skip: !TEST_DATABASE_URL,
  },
];
