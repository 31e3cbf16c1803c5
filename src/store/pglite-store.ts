/**
 * The embedded default: PGlite (PostgreSQL compiled to WebAssembly) on disk in
 * SWITCHBOARD_DATA_DIR. One process opens the folder and serves it to the others over a socket
 * (pglite-share.ts), so the CLI, `serve` and `mcp` can run at the same time.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { migrate } from './migrate.js';
import { openSharedPglite, type ShareOptions } from './pglite-share.js';
import type { SqlExecutor } from './sql.js';
import { SqlStore } from './sql-store.js';

type Queryable = Pick<PGlite, 'query' | 'exec'> | Transaction;

/** Wraps a PGlite instance (or one of its transactions) as a SqlExecutor. */
export function wrapPglite(db: Queryable, root?: PGlite, onClose?: () => void): SqlExecutor {
  return {
    async query<T>(text: string, params: unknown[] = []) {
      const result = await db.query<T>(text, params);
      return result.rows;
    },
    async exec(text: string) {
      await db.exec(text);
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      if (!root) return fn(wrapPglite(db));
      return root.transaction((tx) => fn(wrapPglite(tx)));
    },
    async close() {
      if (root && !root.closed) await root.close();
      onClose?.();
    },
  };
}

export interface PgliteOptions {
  /** A folder on disk; omit for an in-memory database (tests). */
  dataDir?: string;
  /** A database image to start from (tests share one migrated template). */
  loadDataDir?: Blob;
  /** Skip migrations (the template is already migrated). */
  skipMigrate?: boolean;
  /** How a data folder is shared with other processes (timeouts; tests shorten them). */
  share?: ShareOptions;
}

export async function openPgliteExecutor(options: PgliteOptions = {}): Promise<SqlExecutor> {
  if (options.dataDir) {
    const dir = resolve(options.dataDir);
    mkdirSync(dir, { recursive: true });
    return openSharedPglite(dir, options.share);
  }
  const db = await PGlite.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  return wrapPglite(db, db);
}

export async function openPgliteStore(options: PgliteOptions = {}): Promise<SqlStore> {
  const db = await openPgliteExecutor(options);
  if (!options.skipMigrate) {
    try {
      await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  return new SqlStore('pglite', db);
}
