/**
 * Serves one PGlite instance over the PostgreSQL wire protocol on a Unix socket, so that other
 * switchboard processes (the CLI, `switchboard mcp`) use the embedded database while `serve` or
 * another command holds it.
 *
 * PGlite is a single backend session, so clients take turns: a connection that sends a message
 * owns the session until PostgreSQL is ready for a new query outside a transaction (after a Sync
 * or a simple Query). An extended-protocol batch (Parse/Bind/Execute/Sync) or a whole transaction
 * therefore runs without any other client's statement in between, and advisory transaction locks
 * are never contended. @electric-sql/pglite-socket 0.2.17 switches clients per message, which
 * mixes up concurrent batches (electric-sql/pglite#1046); this server exists because of that.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** PostgreSQL's own limit on a message (1 GB); anything larger is a broken client. */
const MAX_MESSAGE = 1 << 30;

export interface WireServerOptions {
  db: PGlite;
  /** Unix socket path (or Windows pipe name) to listen on. */
  path: string;
  /**
   * A connection that holds the session (an open transaction or an unfinished batch) and sends
   * nothing for this long is closed, and its transaction rolled back, so that one stuck client
   * cannot stop every other process. Default 60 s.
   */
  idleInTurnMs?: number;
  log?: (message: string) => void;
}

export interface WireServer {
  readonly path: string;
  /** Client connections open now. */
  connections(): number;
  /**
   * Runs `fn` with the session to itself: the holder's own queries go straight to PGlite this
   * way, between other clients' batches and transactions, never inside them.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Stops serving. Waits up to `lingerMs` for clients to disconnect by themselves, then stops
   * accepting, waits for the session to be free (no transaction in progress), and closes the
   * remaining connections. A client whose next statement had not run yet gets SQLSTATE 57P01 for
   * it (nothing of it ran), so it can safely reconnect and send it again.
   */
  close(options?: { lingerMs?: number; beforeStop?: () => void }): Promise<void>;
}

/** Frontend message bytes. */
const message = {
  sync: () => Buffer.from([0x53, 0, 0, 0, 4]),
  query(sql: string) {
    const text = Buffer.from(`${sql}\0`);
    const head = Buffer.alloc(5);
    head.write('Q', 0);
    head.writeInt32BE(4 + text.length, 1);
    return Buffer.concat([head, text]);
  },
  closeStatement(name: string) {
    const text = Buffer.from(`S${name}\0`);
    const head = Buffer.alloc(5);
    head.write('C', 0);
    head.writeInt32BE(4 + text.length, 1);
    return Buffer.concat([head, text]);
  },
};

/**
 * The answer to a batch the closing holder will not run: an ErrorResponse with SQLSTATE 57P01
 * (admin_shutdown), then ReadyForQuery, which is when drivers report a statement's error.
 */
function notRunAnswer(): Buffer {
  const fields = Buffer.from(
    'SERROR\0VERROR\0C57P01\0M' +
      'the switchboard process holding the embedded database is closing; this statement did not run\0\0',
  );
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields, Buffer.from([0x5a, 0, 0, 0, 5, 0x49])]);
}

/** A socket connection, the holder's own in-process queries, or the server while it stops. */
type Owner = Connection | object;

interface Waiter {
  connection: Owner;
  resolve: () => void;
}

/**
 * Who may use the PGlite session now; first come, first served. PGlite runs on this thread and a
 * statement finishes within one chain of promises, so each turn begins on a later turn of the
 * event loop (`setImmediate`): I/O is served between statements. Handed on at once instead, a
 * queue of statements ran back to back and kept every socket waiting: a Slack request arriving
 * behind 50 purchases' statements was answered only once all of them had run.
 */
class Turn {
  owner: Owner | undefined;
  private readonly waiting: Waiter[] = [];
  private handing = false;

  acquire(connection: Owner): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ connection, resolve });
      this.handOnLater();
    });
  }

  release(connection: Owner): void {
    if (this.owner !== connection) return;
    this.owner = undefined;
    this.handOnLater();
  }

  private handOnLater(): void {
    if (this.owner !== undefined || this.handing || this.waiting.length === 0) return;
    this.handing = true;
    setImmediate(() => {
      this.handing = false;
      const next = this.owner === undefined ? this.waiting.shift() : undefined;
      if (!next) return;
      this.owner = next.connection;
      next.resolve();
    });
  }
}

class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private work: Promise<void> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Messages received and not yet run. */
  pending = 0;
  /** Of those, the ones that end a batch (Sync, Query): each expects a ReadyForQuery. */
  pendingBatches = 0;
  closed = false;
  private readonly statements = new Set<string>();

  constructor(
    private readonly socket: Socket,
    private readonly shared: Shared,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.onClose());
  }

  private receive(chunk: Buffer): void {
    this.clearIdleTimer();
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const next = this.cut();
      if (next === undefined) return;
      if (next === null) {
        this.socket.destroy();
        return;
      }
      this.pending++;
      const endsBatch = !next.startup && (next.msg[0] === 0x53 || next.msg[0] === 0x51);
      if (endsBatch) this.pendingBatches++;
      this.work = this.work.then(() => this.handle(next.msg, next.startup, endsBatch));
    }
  }

  /** The next complete message; undefined when more bytes are needed, null on garbage. */
  private cut(): { msg: Buffer; startup: boolean } | null | undefined {
    const buffer = this.buffer;
    let length: number;
    if (!this.started) {
      if (buffer.length < 8) return undefined;
      length = buffer.readInt32BE(0);
    } else {
      if (buffer.length < 5) return undefined;
      length = 1 + buffer.readInt32BE(1);
    }
    if (length < 4 || length > MAX_MESSAGE) return null;
    if (buffer.length < length) return undefined;
    const msg = buffer.subarray(0, length);
    this.buffer = buffer.subarray(length);
    // Before the startup message, requests (SSL, GSS, cancel) carry no type byte.
    const startup = !this.started;
    if (startup && msg.readInt32BE(4) === PROTOCOL_3) this.started = true;
    return { msg, startup };
  }

  private async handle(msg: Buffer, startup: boolean, endsBatch: boolean): Promise<void> {
    try {
      await this.run(msg, startup);
    } catch (error) {
      this.shared.log?.(`socket client dropped: ${(error as Error).message}`);
      this.socket.destroy();
    } finally {
      this.pending--;
      if (endsBatch) this.pendingBatches--;
    }
  }

  private async run(msg: Buffer, startup: boolean): Promise<void> {
    if (this.closed) return;
    const { db, turn } = this.shared;
    if (startup) {
      const code = msg.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSS_REQUEST) {
        this.socket.write('N');
        return;
      }
      if (code === CANCEL_REQUEST) {
        this.socket.destroy();
        return;
      }
      if (code !== PROTOCOL_3) {
        this.socket.destroy();
        return;
      }
    } else if (msg[0] === 0x58 /* X: Terminate */) {
      this.socket.end();
      return;
    }
    if (turn.owner !== this) {
      await turn.acquire(this);
      if (this.closed) {
        // Closed while waiting: nothing of this batch ran.
        turn.release(this);
        return;
      }
    }
    if (!startup) this.track(msg);
    await db.runExclusive(() =>
      db.execProtocolRawStream(new Uint8Array(msg), {
        onRawData: (data) => {
          // `data` is a view into PGlite's memory, reused by the next write: copy it, since the
          // socket may queue it.
          if (data.length > 0 && !this.socket.destroyed) this.socket.write(Buffer.from(data));
        },
      }),
    );
    const type = startup ? 0 : msg[0];
    const batchDone = startup || type === 0x53 /* S: Sync */ || type === 0x51; /* Q: Query */
    if (batchDone && !db.isInTransaction()) {
      turn.release(this);
    } else if (this.pending <= 1) {
      this.startIdleTimer();
    }
  }

  /** Remembers named prepared statements, to deallocate them when the client goes. */
  private track(msg: Buffer): void {
    const type = msg[0];
    if (type === 0x50 /* P: Parse */) {
      const end = msg.indexOf(0, 5);
      const name = msg.toString('utf8', 5, end);
      if (name) this.statements.add(name);
    } else if (type === 0x43 /* C: Close */ && msg[5] === 0x53 /* S */) {
      this.statements.delete(msg.toString('utf8', 6, msg.indexOf(0, 6)));
    }
  }

  private startIdleTimer(): void {
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.shared.log?.(
        `closing a socket client that held the embedded database idle for ${this.shared.idleInTurnMs} ms`,
      );
      this.socket.destroy();
    }, this.shared.idleInTurnMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private onClose(): void {
    this.closed = true;
    this.clearIdleTimer();
    this.shared.connections.delete(this);
    this.work = this.work.then(() => this.cleanUp());
    void this.work.then(() => this.shared.changed());
  }

  /** Leaves the shared session as a fresh connection would find it. */
  private async cleanUp(): Promise<void> {
    const { db, turn } = this.shared;
    if (this.shared.stopping && turn.owner !== this) return;
    const owned = turn.owner === this;
    if (!owned && this.statements.size === 0) return;
    if (!owned) {
      await turn.acquire(this);
      if (this.shared.stopping) {
        turn.release(this);
        return;
      }
    }
    try {
      const reset = [message.sync()];
      if (db.isInTransaction()) reset.push(message.query('ROLLBACK'));
      for (const name of this.statements) reset.push(message.closeStatement(name), message.sync());
      await db.runExclusive(async () => {
        for (const msg of reset) {
          await db.execProtocolRawStream(new Uint8Array(msg), { onRawData: () => undefined });
        }
      });
    } catch (error) {
      this.shared.log?.(`could not reset the session after a client left: ${String(error)}`);
    } finally {
      this.statements.clear();
      turn.release(this);
    }
  }

  /** Closes the connection on shutdown; see WireServer.close. */
  shutDown(): void {
    // end() flushes the answers before closing; destroy() only if the client does not hang up.
    this.socket.end(Buffer.concat(Array.from({ length: this.pendingBatches }, notRunAnswer)));
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }
}

interface Shared {
  db: PGlite;
  turn: Turn;
  connections: Set<Connection>;
  idleInTurnMs: number;
  stopping: boolean;
  log?: ((message: string) => void) | undefined;
  changed: () => void;
}

export async function startWireServer(options: WireServerOptions): Promise<WireServer> {
  let wake: (() => void) | undefined;
  const shared: Shared = {
    db: options.db,
    turn: new Turn(),
    connections: new Set(),
    idleInTurnMs: options.idleInTurnMs ?? 60_000,
    stopping: false,
    log: options.log,
    changed: () => wake?.(),
  };
  const server: Server = createServer((socket) => {
    if (shared.stopping) {
      socket.destroy();
      return;
    }
    socket.setNoDelay?.(true);
    shared.connections.add(new Connection(socket, shared));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.log?.(`socket server error: ${error.message}`));

  const untilChange = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  let closing = false;
  return {
    path: options.path,
    connections: () => shared.connections.size,
    async exclusive<T>(fn: () => Promise<T>): Promise<T> {
      if (closing) throw new Error('The embedded database is closing.');
      const self = {};
      await shared.turn.acquire(self);
      try {
        return await fn();
      } finally {
        shared.turn.release(self);
      }
    },
    async close({ lingerMs = 0, beforeStop } = {}) {
      closing = true;
      const deadline = Date.now() + lingerMs;
      while (shared.connections.size > 0 && Date.now() < deadline) {
        await untilChange(Math.min(100, deadline - Date.now()));
      }
      beforeStop?.();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // From here on nobody new gets the session: wait for the current owner to finish its batch
      // or transaction (the idle timer bounds a stuck one), then cut everyone else off.
      await shared.turn.acquire(server);
      shared.stopping = true;
      for (const connection of shared.connections) connection.shutDown();
      shared.connections.clear();
      await closed;
    },
  };
}
