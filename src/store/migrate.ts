import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlExecutor } from './sql.js';
import { translate } from './sql-store.js';

export interface Migration {
  name: string;
  sql: string;
}

/**
 * Finds src/store/migrations from wherever this module runs (src/ under vitest, dist/ when
 * bundled): the package ships the folder, and every store runs the same files.
 */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'src', 'store', 'migrations');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('Cannot find src/store/migrations next to the switchboard package.');
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_.*\.sql$/.test(file))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * Applies every migration not yet applied, each in its own transaction, under an advisory lock so
 * that two processes starting at once apply each file once. Safe to run any number of times.
 * Returns the names it applied.
 */
export async function migrate(db: SqlExecutor, migrations = loadMigrations()): Promise<string[]> {
  try {
    return await applyMigrations(db, migrations);
  } catch (error) {
    throw translate(error, 'migrate');
  }
}

async function applyMigrations(db: SqlExecutor, migrations: Migration[]): Promise<string[]> {
  await db.exec(`
    create schema if not exists switchboard;
    create table if not exists switchboard.schema_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    );`);
  const applied: string[] = [];
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('switchboard.migrate'))`);
      const rows = await tx.query('select 1 from switchboard.schema_migrations where name = $1', [
        migration.name,
      ]);
      if (rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('insert into switchboard.schema_migrations (name) values ($1)', [
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.name);
  }
  // --- issue 7 (005_rls_leases.sql): RLS and grants cover every table and function in the
  // schema, including those later migrations add. Under the same lock: concurrent GRANTs collide.
  if (applied.length > 0) {
    await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('switchboard.migrate'))`);
      const rows = await tx.query<{ present: boolean }>(
        `select to_regprocedure('switchboard.secure_schema()') is not null as present`,
      );
      if (rows[0]?.present) await tx.query('select switchboard.secure_schema()');
    });
  }
  // --- end issue 7
  return applied;
}
