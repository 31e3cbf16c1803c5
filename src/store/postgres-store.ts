/** PostgreSQL through the `postgres` driver (DATABASE_URL): any Postgres, Supabase's included. */
import postgres from 'postgres';
import { migrate } from './migrate.js';
import type { SqlExecutor } from './sql.js';
import { SqlStore } from './sql-store.js';

type Sql = postgres.Sql | postgres.TransactionSql;

// Exported for the embedded store's socket clients (pglite-share.ts), which build their own driver.
export function executor(sql: Sql, root?: postgres.Sql): SqlExecutor {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      return (await sql.unsafe(
        text,
        params as postgres.ParameterOrJSON<never>[],
      )) as unknown as T[];
    },
    async exec(text: string) {
      await sql.unsafe(text);
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      if (!root) return fn(executor(sql));
      return (await root.begin((tx) => fn(executor(tx)))) as T;
    },
    async close() {
      await root?.end({ timeout: 5 });
    },
  };
}

export interface PostgresOptions {
  url: string;
  max?: number;
  skipMigrate?: boolean;
}

export function openPostgresExecutor(options: PostgresOptions): SqlExecutor {
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    onnotice: () => undefined,
    // Supabase's transaction pooler (port 6543) does not support prepared statements.
    prepare: !/:6543\b/.test(options.url),
    connection: { application_name: 'switchboard' },
  });
  return executor(sql, sql);
}

export async function openPostgresStore(options: PostgresOptions): Promise<SqlStore> {
  const db = openPostgresExecutor(options);
  if (!options.skipMigrate) {
    try {
      await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  return new SqlStore('postgres', db);
}
