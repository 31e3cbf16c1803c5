/**
 * One embedded database, several processes. The first process to open a data folder holds it:
 * it opens PGlite and serves it on a Unix socket inside the folder (pglite-share-server.ts).
 * Other processes talk to the database through that socket with the `postgres` driver (the same
 * executor as the PostgreSQL store); the holder's own queries go to PGlite directly, taking
 * their turn with the socket's clients.
 *
 * `switchboard.lock` in the folder says who holds it:
 *   { pid, nonce, state: 'starting' | 'serving' | 'closing', socket?, since }
 * A process that finds the lock held by a live process connects to its socket, or waits while
 * the holder starts or closes; a lock whose process is gone (killed, crashed) is taken over. Only
 * the process that created the lock file opens PGlite, so two PGlite instances never share a
 * folder. When the holder closes it keeps serving connected clients for a moment (`lingerMs`);
 * a client that finds the holder gone reconnects, and may become the holder itself.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { CoreError } from '../core/errors.js';
import { executor } from './postgres-store.js';
import type { SqlExecutor } from './sql.js';
import { startWireServer, type WireServer } from './pglite-share-server.js';

export interface ShareOptions {
  /** How long to wait for a holder that is starting or closing. Default 30 s. */
  waitMs?: number;
  /** How long a closing holder keeps serving connected clients. Default 5 s. */
  lingerMs?: number;
  /** See WireServerOptions.idleInTurnMs. */
  idleInTurnMs?: number;
  log?: (message: string) => void;
}

type LockState = 'starting' | 'serving' | 'closing';

interface LockRecord {
  pid: number;
  nonce: string;
  state: LockState;
  socket?: string;
  since: number;
}

interface Attachment {
  role: 'holder' | 'client';
  db: SqlExecutor;
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const lockFile = (dir: string) => join(dir, 'switchboard.lock');

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function readLock(dir: string): { raw: string; record: Partial<LockRecord> } | undefined {
  let raw: string;
  try {
    raw = readFileSync(lockFile(dir), 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  // Before sharing, the lock file held only the pid.
  if (/^\d+$/.test(raw.trim())) return { raw, record: { pid: Number(raw) } };
  try {
    return { raw, record: JSON.parse(raw) as Partial<LockRecord> };
  } catch {
    return { raw, record: {} };
  }
}

function writeTemporary(dir: string, record: LockRecord): string {
  const temporary = `${lockFile(dir)}.${record.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
  return temporary;
}

/** Creates the lock file with its whole content at once; false when it exists already. */
function createLock(dir: string, record: LockRecord): boolean {
  const temporary = writeTemporary(dir, record);
  try {
    linkSync(temporary, lockFile(dir));
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/** Rewrites our own lock file (state changes); atomic for readers. */
function replaceLock(dir: string, record: LockRecord): void {
  renameSync(writeTemporary(dir, record), lockFile(dir));
}

function releaseLock(dir: string, nonce: string): void {
  try {
    if (readLock(dir)?.record.nonce === nonce) unlinkSync(lockFile(dir));
  } catch {
    // gone already
  }
}

/**
 * Removes a lock left by a process that is gone, unless it changed since we read it: another
 * process may have taken it over meanwhile. The check and the removal happen under a second,
 * short-lived lock file, held only for these few synchronous calls.
 */
function breakStaleLock(dir: string, seen: string): void {
  const breaker = `${lockFile(dir)}.break`;
  try {
    closeSync(openSync(breaker, 'wx'));
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    // Only a process killed inside the few lines below leaves it behind.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > 5_000) unlinkSync(breaker);
    } catch {
      // raced with its owner
    }
    return;
  }
  try {
    if (readLock(dir)?.raw === seen) unlinkSync(lockFile(dir));
  } finally {
    unlinkSync(breaker);
  }
}

/**
 * The socket lives in the data folder. A Unix socket path is limited to about 100 bytes, so a
 * deep folder gets a private (0700) temporary folder instead, named in the lock file.
 */
function socketPathFor(dir: string): { path: string; cleanUp?: () => void } {
  if (process.platform === 'win32') {
    const hash = createHash('sha256').update(dir).digest('hex').slice(0, 16);
    return { path: `\\\\.\\pipe\\switchboard-${hash}` };
  }
  const inside = join(dir, 'switchboard.sock');
  if (Buffer.byteLength(inside) <= 100) return { path: inside };
  const folder = mkdtempSync(join(tmpdir(), 'switchboard-'));
  return {
    path: join(folder, 'db.sock'),
    cleanUp: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** Where PGlite keeps its files inside a data folder. */
const pgdataOf = (dir: string) => join(dir, 'pgdata');

/**
 * Whether a data folder already holds a database. The first command on a new folder creates one
 * (PostgreSQL's initdb, in WebAssembly), which takes seconds: the CLI says so first.
 */
export function embeddedDatabaseExists(dir: string): boolean {
  return existsSync(join(pgdataOf(resolve(dir)), 'PG_VERSION'));
}

/** A `postgres` driver on the holder's socket. */
function connect(path: string): { db: SqlExecutor; sql: postgres.Sql } {
  const sql = postgres({
    path,
    user: 'postgres',
    database: 'postgres',
    max: 4,
    // One statement in flight per connection: a holder that closes can then tell a client
    // exactly which statement did not run (SQLSTATE 57P01), and the client sends it again.
    max_pipeline: 1,
    // Idle connections go, so that a holder that wants to close is not kept waiting.
    idle_timeout: 2,
    connect_timeout: 10,
    onnotice: () => undefined,
    connection: { application_name: 'switchboard' },
  } as postgres.Options<Record<string, postgres.PostgresType>>);
  return { db: executor(sql, sql), sql };
}

/** The holder's own executor: PGlite in this process, one turn per statement or transaction. */
function localExecutor(db: PGlite, server: WireServer): SqlExecutor {
  type Queryable = Pick<PGlite, 'query' | 'exec'>;
  const on = (q: Queryable): SqlExecutor => ({
    query: async <T>(text: string, params: unknown[] = []) => (await q.query<T>(text, params)).rows,
    exec: async (text: string) => {
      await q.exec(text);
    },
    transaction: (fn) => fn(on(q)),
    close: async () => undefined,
  });
  return {
    query: (text, params) => server.exclusive(() => on(db).query(text, params)),
    exec: (text) => server.exclusive(() => on(db).exec(text)),
    transaction: (fn) => server.exclusive(() => db.transaction((tx) => fn(on(tx)))),
    close: async () => undefined,
  };
}

/** True when the statement certainly did not run: the holder was gone or turned it away. */
function notExecuted(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === '57P01';
}

async function becomeHolder(
  dir: string,
  record: LockRecord,
  options: ShareOptions,
): Promise<Attachment> {
  let pglite: PGlite | undefined;
  let server: WireServer | undefined;
  const socket = socketPathFor(dir);
  const cleanUpOnExit = () => {
    // A holder that exits without closing (process.exit) leaves nothing that looks alive.
    releaseLock(dir, record.nonce);
    socket.cleanUp?.();
  };
  try {
    // Issue 3 (memory, tools/bench): PostgreSQL's default 128 MB of shared buffers is most of an
    // open PGlite's resident memory: about 290 MB open, 180 MB with 16 MB of buffers; the
    // 100,000-number sync bench peaks at 263 MB instead of 433 MB, no slower (the data files
    // stay in the OS page cache).
    pglite = await PGlite.create(pgdataOf(dir), {
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
    });
    if (process.platform !== 'win32') rmSync(socket.path, { force: true });
    server = await startWireServer({
      db: pglite,
      path: socket.path,
      ...(options.idleInTurnMs ? { idleInTurnMs: options.idleInTurnMs } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    if (process.platform !== 'win32') chmodSync(socket.path, 0o600);
    const serving: LockRecord = { ...record, state: 'serving', socket: socket.path };
    replaceLock(dir, serving);
    process.once('exit', cleanUpOnExit);
    const db = pglite;
    const wire = server;
    return {
      role: 'holder',
      db: localExecutor(db, wire),
      async release() {
        await wire.close({
          lingerMs: options.lingerMs ?? 5_000,
          beforeStop: () => replaceLock(dir, { ...serving, state: 'closing', since: Date.now() }),
        });
        await db.close();
        process.off('exit', cleanUpOnExit);
        cleanUpOnExit();
      },
    };
  } catch (error) {
    await server?.close().catch(() => undefined);
    if (pglite && !pglite.closed) await pglite.close().catch(() => undefined);
    cleanUpOnExit();
    throw new CoreError(
      'UNAVAILABLE',
      `Could not open the embedded database in ${dir}: ${error instanceof Error ? error.message : String(error)}. Check that the folder is writable, or set SWITCHBOARD_DATA_DIR to another folder.`,
      { cause: error },
    );
  }
}

async function connectToHolder(path: string): Promise<Attachment> {
  const client = connect(path);
  try {
    await client.db.query('select 1');
  } catch (error) {
    await client.sql.end({ timeout: 0 }).catch(() => undefined);
    throw error;
  }
  return { role: 'client', db: client.db, release: () => client.db.close() };
}

/** Holds the folder or connects to its holder; waits while a holder starts or closes. */
async function attach(dir: string, options: ShareOptions): Promise<Attachment> {
  const waitMs = options.waitMs ?? 30_000;
  const deadline = Date.now() + waitMs;
  const nonce = randomBytes(8).toString('hex');
  let refused: { raw: string; since: number } | undefined;
  for (let attempt = 0; ; attempt++) {
    const record: LockRecord = { pid: process.pid, nonce, state: 'starting', since: Date.now() };
    if (createLock(dir, record)) return becomeHolder(dir, record, options);
    const lock = readLock(dir);
    if (!lock) continue; // released between the two calls
    const { pid, state, socket } = lock.record;
    if (pid && !processAlive(pid)) {
      options.log?.(`taking over the embedded database from pid ${pid}, which is gone`);
      breakStaleLock(dir, lock.raw);
      continue;
    }
    if (state === 'serving' && socket) {
      try {
        return await connectToHolder(socket);
      } catch (error) {
        if (errnoCode(error) === 'ECONNREFUSED') {
          // Nobody listens on a socket the lock calls serving: the holder died (its pid now
          // belongs to another program). Give it a moment in case it is closing right now.
          if (refused?.raw !== lock.raw) refused = { raw: lock.raw, since: Date.now() };
          else if (Date.now() - refused.since > 2_000) {
            options.log?.(
              `taking over the embedded database from pid ${pid}, which is not answering`,
            );
            breakStaleLock(dir, lock.raw);
            continue;
          }
        } else if (error instanceof postgres.PostgresError && error.code !== '57P01') {
          throw error;
        }
        // Otherwise the holder is closing (reset, ENOENT, 57P01): wait for the next one.
      }
    }
    if (Date.now() > deadline) {
      throw new CoreError(
        'UNAVAILABLE',
        `Another switchboard process (pid ${pid ?? 'unknown'}) holds the embedded database in ${dir} and did not answer within ${Math.round(waitMs / 1000)} s (${state ?? 'an older switchboard version'}). Wait for it to finish or stop it; if no switchboard process is running, delete ${lockFile(dir)}.`,
      );
    }
    await sleep(Math.min(20 + attempt * 10, 200));
  }
}

/**
 * A SqlExecutor over the shared embedded database. A statement the holder never ran (it was
 * gone, or closing) is sent again after reattaching, which may make this process the holder; a
 * transaction is retried only when it had not started. Anything else fails with a message.
 */
export class SharedExecutor implements SqlExecutor {
  private current: Promise<Attachment>;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly options: ShareOptions,
  ) {
    this.current = attach(dir, options);
  }

  ready(): Promise<Attachment> {
    return this.current;
  }

  /** Whether this process holds the database or reaches it through another process. */
  async role(): Promise<Attachment['role']> {
    return (await this.current).role;
  }

  private reattach(failed: Attachment): Promise<Attachment> {
    return (this.current = this.current.then(async (now) => {
      if (now !== failed) return now; // another statement reattached already
      await failed.release().catch(() => undefined);
      return attach(this.dir, this.options);
    }));
  }

  private async withRetry<T>(
    run: (db: SqlExecutor) => Promise<T>,
    canRetry: () => boolean,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new CoreError('UNAVAILABLE', 'The embedded database is closed.');
      const attachment = await this.current;
      try {
        return await run(attachment.db);
      } catch (error) {
        if (notExecuted(error) && canRetry() && attempt < 5) {
          await this.reattach(attachment);
          continue;
        }
        throw this.lost(error);
      }
    }
  }

  private lost(error: unknown): unknown {
    const code = errnoCode(error);
    if (code !== 'CONNECTION_CLOSED' && code !== 'CONNECTION_DESTROYED' && !notExecuted(error))
      return error;
    return new CoreError(
      'UNAVAILABLE',
      `The switchboard process holding the embedded database in ${this.dir} went away during this command. Run the command again; if it changes something, check first with \`switchboard list\` or \`switchboard requests\` whether it already did.`,
      { cause: error },
    );
  }

  query<T>(text: string, params?: unknown[]): Promise<T[]> {
    return this.withRetry(
      (db) => db.query<T>(text, params),
      () => true,
    );
  }

  exec(text: string): Promise<void> {
    return this.withRetry(
      (db) => db.exec(text),
      () => true,
    );
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let started = false;
    return this.withRetry(
      (db) =>
        db.transaction((tx) => {
          started = true;
          return fn(tx);
        }),
      () => !started,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const attachment = await this.current.catch(() => undefined);
    await attachment?.release();
  }
}

/** Opens the embedded database in `dir` (created already), shared with other processes. */
export async function openSharedPglite(
  dir: string,
  options: ShareOptions = {},
): Promise<SharedExecutor> {
  const shared = new SharedExecutor(dir, options);
  await shared.ready();
  return shared;
}
