/**
 * The embedded default: PGlite (PostgreSQL compiled to WebAssembly) on disk in
 * SWITCHBOARD_DATA_DIR. One process at a time may open a data folder; a lock file says which.
 */
import { mkdirSync, openSync, closeSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { CoreError } from '../core/errors.js';
import { migrate } from './migrate.js';
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the data folder's lock, clearing a stale one left by a process that died. */
function lockDataDir(dir: string): () => void {
  const lockPath = join(dir, 'switchboard.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lockPath);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lockPath, 'utf8'));
      if (pid && pid !== process.pid && processAlive(pid)) {
        throw new CoreError(
          'UNAVAILABLE',
          `Another switchboard process (pid ${pid}) is using the embedded database in ${dir}. Stop it, or use PostgreSQL for several processes (DATABASE_URL).`,
        );
      }
      unlinkSync(lockPath);
    }
  }
  throw new CoreError('UNAVAILABLE', `Could not lock ${dir}.`);
}

export interface PgliteOptions {
  /** A folder on disk; omit for an in-memory database (tests). */
  dataDir?: string;
  /** A database image to start from (tests share one migrated template). */
  loadDataDir?: Blob;
  /** Skip migrations (the template is already migrated). */
  skipMigrate?: boolean;
}

export async function openPgliteExecutor(options: PgliteOptions = {}): Promise<SqlExecutor> {
  let unlock: (() => void) | undefined;
  let db: PGlite;
  if (options.dataDir) {
    const dir = resolve(options.dataDir);
    mkdirSync(dir, { recursive: true });
    unlock = lockDataDir(dir);
    try {
      db = await PGlite.create(join(dir, 'pgdata'));
    } catch (error) {
      unlock();
      throw new CoreError(
        'UNAVAILABLE',
        `Could not open the embedded database in ${dir}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  } else {
    db = await PGlite.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  }
  return wrapPglite(db, db, unlock);
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
