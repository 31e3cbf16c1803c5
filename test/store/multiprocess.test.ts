/**
 * One embedded database, several processes (issue 6 item 7). Real processes: the built
 * `switchboard` CLI, and a small "holder" that opens the app the way `serve` does and waits.
 * Also the socket server on its own: batches and transactions from many connections never mix.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { build } from 'esbuild';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWireServer } from '../../src/store/pglite-share-server.js';
import { lockFile, openSharedPglite } from '../../src/store/pglite-share.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/switchboard.js');

// Opens the app as `serve` does, says so, and holds the store until SIGTERM or stdin closes.
const HOLDER = `
import { openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
const app = await openApp(loadConfig(process.env));
let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write('ready\\n');
`;

let holderScript: string;
let base: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'switchboard-multi-'));
  // Inside the package, so the bundle finds node_modules and src/store/migrations.
  const cache = join(ROOT, 'node_modules/.cache/switchboard-test');
  mkdirSync(cache, { recursive: true });
  holderScript = join(cache, `holder-${process.pid}.mjs`);
  await build({
    stdin: { contents: HOLDER, resolveDir: import.meta.dirname, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: holderScript,
    logLevel: 'warning',
  });
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  rmSync(holderScript, { force: true });
});

let counter = 0;
function newDataDir(): string {
  return join(base, `data-${counter++}`);
}

function envFor(dataDir: string): NodeJS.ProcessEnv {
  // A clean environment: no carrier keys, so the sandbox answers.
  return {
    PATH: process.env.PATH,
    HOME: base,
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_APPROVERS: 'U01BOB',
  };
}

interface Run {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

async function sb(dataDir: string, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], {
      env: envFor(dataDir),
      cwd: base,
    });
    return { args, code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { args, code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function json<T>(dataDir: string, ...args: string[]): Promise<T> {
  const run = await sb(dataDir, ...args, '--json');
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return (JSON.parse(run.stdout) as { result: T }).result;
}

async function startHolder(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [holderScript], {
    env: envFor(dataDir),
    cwd: base,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`holder exited (${code}): ${stderr}`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const lockPid = (dataDir: string) =>
  (JSON.parse(readFileSync(lockFile(dataDir), 'utf8')) as { pid: number }).pid;

interface Request {
  id: string;
  status: string;
  requester: string;
}

function describeRuns(runs: Run[]): string {
  return runs
    .filter((r) => r.code !== 0)
    .map((r) => `${r.args.join(' ')} -> ${r.code}: ${r.stderr}`)
    .join('\n');
}

describe('one embedded store shared by several processes (real processes)', () => {
  it('while a holder runs, 10 CLI commands at once all succeed and the data stays consistent', async () => {
    const dataDir = newDataDir();
    const holder = await startHolder(dataDir);
    try {
      expect(lockPid(dataDir)).toBe(holder.pid);
      const first = await json<{ request: Request }>(
        dataDir,
        'buy',
        '415',
        '--as',
        'U01ALICE',
        '--reason',
        'Support line',
      );
      expect(first.request.status).toBe('pending');
      const auditBefore = await json<{ events: unknown[] }>(dataDir, 'audit', '--limit', '1000');

      const runs = await Promise.all([
        sb(dataDir, 'approve', first.request.id, '--as', 'U01BOB'),
        sb(dataDir, 'search', '415'),
        sb(dataDir, 'search', '212', '--limit', '3'),
        sb(dataDir, 'buy', '212', '--as', 'U01CAROL'),
        sb(dataDir, 'buy', '312', '--as', 'U01DAVE'),
        sb(dataDir, 'buy', '604', '--as', 'U01ERIN'),
        sb(dataDir, 'requests'),
        sb(dataDir, 'requests', 'all'),
        sb(dataDir, 'list'),
        sb(dataDir, 'list', 'all'),
      ]);
      expect(describeRuns(runs)).toBe('');
      expect(runs[0]!.stdout).toContain('assigned it to U01ALICE');

      // The holder never changed: the ten commands went through its socket.
      expect(lockPid(dataDir)).toBe(holder.pid);

      const requests = await json<{ requests: Request[] }>(
        dataDir,
        'requests',
        'all',
        '--as',
        'U01BOB',
      );
      const byId = requests.requests.filter((r) => r.id === first.request.id);
      expect(byId).toHaveLength(1);
      expect(byId[0]!.status).toBe('done');
      expect(
        requests.requests
          .filter((r) => r.status === 'pending')
          .map((r) => r.requester)
          .sort(),
      ).toEqual(['U01CAROL', 'U01DAVE', 'U01ERIN']);

      const numbers = await json<{ numbers: Array<{ e164: string; owner: string | null }> }>(
        dataDir,
        'list',
        'all',
      );
      expect(numbers.numbers.filter((n) => n.owner === 'U01ALICE')).toHaveLength(1);

      const audit = await json<{
        events: Array<{ command: string; outcome: string; requestId: string | null }>;
      }>(dataDir, 'audit', '--limit', '1000');
      // The ten commands, plus `requests all` and `list all` just above; the audit call itself
      // is written after it reads.
      const added = audit.events.slice(0, audit.events.length - auditBefore.events.length);
      expect(added.map((e) => e.command).sort()).toEqual(
        [
          'approve',
          'search',
          'search',
          'buy',
          'buy',
          'buy',
          'requests',
          'requests',
          'list',
          'list',
          'audit',
          'requests',
          'list',
        ].sort(),
      );
      expect(added.every((e) => e.outcome === 'ok')).toBe(true);
      expect(
        audit.events.filter((e) => e.requestId === first.request.id).map((e) => e.command),
      ).toEqual(['approve', 'buy']);
    } finally {
      holder.kill('SIGTERM');
      await exited(holder);
    }
    expect(existsSync(lockFile(dataDir))).toBe(false);
  }, 120_000);

  it('four approvals of one request racing through the holder: one buys, the others are told', async () => {
    const dataDir = newDataDir();
    const holder = await startHolder(dataDir);
    try {
      const { request } = await json<{ request: Request }>(
        dataDir,
        'buy',
        '415',
        '--as',
        'U01ALICE',
      );
      const runs = await Promise.all(
        Array.from({ length: 4 }, () => sb(dataDir, 'approve', request.id, '--as', 'U01BOB')),
      );
      expect(runs.filter((r) => r.code === 0)).toHaveLength(1);
      for (const loser of runs.filter((r) => r.code !== 0)) {
        expect(loser.code, loser.stderr).toBe(4);
      }
      const numbers = await json<{ numbers: Array<{ owner: string | null }> }>(
        dataDir,
        'list',
        'all',
      );
      expect(numbers.numbers.filter((n) => n.owner === 'U01ALICE')).toHaveLength(1);
    } finally {
      holder.kill('SIGTERM');
      await exited(holder);
    }
  }, 120_000);

  it('a holder killed with SIGKILL: the next command takes over and nothing committed is lost', async () => {
    const dataDir = newDataDir();
    const holder = await startHolder(dataDir);
    const { request } = await json<{ request: Request }>(dataDir, 'buy', '415', '--as', 'U01ALICE');
    const approved = await sb(dataDir, 'approve', request.id, '--as', 'U01BOB');
    expect(approved.code, approved.stderr).toBe(0);
    const bought = /bought (\+1\d{10})/.exec(approved.stdout)![1]!;

    holder.kill('SIGKILL');
    await exited(holder);
    expect(lockPid(dataDir)).toBe(holder.pid); // left behind

    const list = await sb(dataDir, 'list', 'all');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(bought);
    const next = await json<{ request: Request }>(dataDir, 'buy', '212', '--as', 'U01CAROL');
    expect(next.request.status).toBe('pending');
    const requests = await json<{ requests: Request[] }>(
      dataDir,
      'requests',
      'all',
      '--as',
      'U01BOB',
    );
    expect(requests.requests.map((r) => [r.id, r.status]).sort()).toEqual(
      [
        [request.id, 'done'],
        [next.request.id, 'pending'],
      ].sort(),
    );
    expect(existsSync(lockFile(dataDir))).toBe(false);
  }, 120_000);

  it('no holder: 5 CLI commands at once all succeed (one holds, the others connect or wait)', async () => {
    const dataDir = newDataDir();
    expect((await sb(dataDir, 'migrate')).code).toBe(0);
    const runs = await Promise.all([
      sb(dataDir, 'buy', '415', '--as', 'U01ALICE'),
      sb(dataDir, 'buy', '212', '--as', 'U01CAROL'),
      sb(dataDir, 'search', '312'),
      sb(dataDir, 'list', 'all'),
      sb(dataDir, 'requests', 'all'),
    ]);
    expect(describeRuns(runs)).toBe('');
    const requests = await json<{ requests: Request[] }>(
      dataDir,
      'requests',
      'all',
      '--as',
      'U01BOB',
    );
    expect(requests.requests.map((r) => r.requester).sort()).toEqual(['U01ALICE', 'U01CAROL']);
    const audit = await json<{ events: Array<{ command: string }> }>(dataDir, 'audit');
    expect(audit.events.map((e) => e.command).sort()).toEqual(
      ['buy', 'buy', 'search', 'list', 'requests', 'requests'].sort(),
    );
    expect(existsSync(lockFile(dataDir))).toBe(false);
  }, 120_000);

  it('the holder stopping while another process keeps its store open: that process takes over', async () => {
    const dataDir = newDataDir();
    const holder = await startHolder(dataDir);
    const second = await openSharedPglite(dataDir, { lingerMs: 200 });
    try {
      expect(await second.role()).toBe('client');
      await second.query('select count(*) from switchboard.numbers');
      holder.kill('SIGTERM');
      expect(await exited(holder)).toBe(0);
      const rows = await second.query<{ n: number }>(
        'select count(*)::int as n from switchboard.numbers',
      );
      expect(rows).toEqual([{ n: 0 }]);
      expect(await second.role()).toBe('holder');
      expect(lockPid(dataDir)).toBe(process.pid);
    } finally {
      await second.close();
    }
    expect(existsSync(lockFile(dataDir))).toBe(false);
  }, 60_000);
});

describe('lock file', () => {
  it('a live process that never serves: a clear error naming the lock file, after waiting', async () => {
    const dataDir = newDataDir();
    mkdirSync(dataDir, { recursive: true });
    // This test process is alive and is not serving anything.
    writeFileSync(
      lockFile(dataDir),
      JSON.stringify({ pid: process.pid, nonce: 'x', state: 'starting', since: Date.now() }),
    );
    await expect(openSharedPglite(dataDir, { waitMs: 300 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining(`delete ${lockFile(dataDir)}`),
    });
    expect(readFileSync(lockFile(dataDir), 'utf8')).toContain('"nonce":"x"');
  });

  it('a lock left by a dead process (old pid-only format) is taken over', async () => {
    const dataDir = newDataDir();
    mkdirSync(dataDir, { recursive: true });
    const dead = spawn(process.execPath, ['-e', '']);
    await exited(dead);
    writeFileSync(lockFile(dataDir), String(dead.pid));
    const db = await openSharedPglite(dataDir, { lingerMs: 0 });
    try {
      expect(await db.role()).toBe('holder');
      expect(lockPid(dataDir)).toBe(process.pid);
    } finally {
      await db.close();
    }
  });
});

describe('socket server on one PGlite', () => {
  let db: PGlite;
  let path: string;
  let stop: () => Promise<void>;
  let exclusive: <T>(fn: () => Promise<T>) => Promise<T>;

  beforeAll(async () => {
    db = await PGlite.create();
    path = join(base, 'wire.sock');
    const server = await startWireServer({ db, path, idleInTurnMs: 2_000 });
    exclusive = (fn) => server.exclusive(fn);
    stop = () => server.close();
    const sql = postgres({ path, max: 1, onnotice: () => undefined });
    await sql.unsafe('create table counter (id int primary key, n int not null)');
    await sql.unsafe('insert into counter values (1, 0)');
    await sql.end();
  });

  afterAll(async () => {
    await stop();
    await db.close();
  });

  it("queries from many pooled connections, their transactions and the holder's own never mix", async () => {
    const clients = [0, 1, 2].map(() => postgres({ path, max: 5, onnotice: () => undefined }));
    try {
      const jobs: Array<Promise<unknown>> = [];
      const wrong: string[] = [];
      for (let i = 0; i < 300; i++) {
        const sql = clients[i % 3]!;
        if (i % 10 === 0) {
          // Read, wait, write: lost updates if another client ran inside the transaction.
          jobs.push(
            sql.begin(async (tx) => {
              await tx.unsafe('select pg_advisory_xact_lock(42)');
              const [row] = await tx.unsafe<Array<{ n: number }>>(
                'select n from counter where id = 1',
              );
              await new Promise((resolve) => setTimeout(resolve, 2));
              await tx.unsafe('update counter set n = $1 where id = 1', [row!.n + 1]);
            }),
          );
        } else if (i % 10 === 5) {
          // The holder's own transactions, straight on PGlite, take their turn too.
          jobs.push(
            exclusive(() =>
              db.transaction(async (tx) => {
                const { rows } = await tx.query<{ n: number }>(
                  'select n from counter where id = 1',
                );
                await new Promise((resolve) => setTimeout(resolve, 2));
                await tx.query('update counter set n = $1 where id = 1', [rows[0]!.n + 1]);
              }),
            ),
          );
        } else if (i % 2) {
          jobs.push(
            sql.unsafe<Array<{ v: number }>>('select $1::int + 1 as v', [i]).then((rows) => {
              if (rows[0]!.v !== i + 1) wrong.push(`${i}`);
            }),
          );
        } else {
          jobs.push(
            sql
              .unsafe<Array<{ v: string }>>(`select $1::text || 'x' as v, 2 as w`, [String(i)])
              .then((rows) => {
                if (rows[0]!.v !== `${i}x`) wrong.push(`${i}`);
              }),
          );
        }
      }
      await Promise.all(jobs);
      expect(wrong).toEqual([]);
      const [row] = await clients[0]!.unsafe<Array<{ n: number }>>(
        'select n from counter where id = 1',
      );
      expect(row!.n).toBe(60);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it("the event loop runs between the holder's queued statements (a request arriving meanwhile is not held up by all of them)", async () => {
    // PGlite runs on this thread: each of these statements blocks it for 20 ms.
    let finished = 0;
    const statements = Array.from({ length: 10 }, () =>
      exclusive(() => db.query('select pg_sleep(0.02)')).then(() => (finished += 1)),
    );
    // Stands for the I/O of requests arriving while they are queued: what each turn saw.
    const seen: number[] = [];
    const probe = setInterval(() => seen.push(finished), 1);
    await Promise.all(statements);
    clearInterval(probe);
    expect(finished).toBe(10);
    // Handed on in one chain of promises, all ten ran before the probe's first turn (it saw 0
    // or nothing); taking turns, it sees them finish one by one.
    const between = new Set(seen.filter((n) => n > 0 && n < 10));
    expect(between.size).toBeGreaterThanOrEqual(5);
  });

  it('large results arrive intact (20,000 rows with JSON, as PGlite itself returns them)', async () => {
    const text = `select g as id, json_build_object('n', g, 'pad', repeat('x', 200)) as doc
      from generate_series(1, 20000) g`;
    const direct = (await db.query<{ id: number; doc: unknown }>(text)).rows;
    const sql = postgres({ path, max: 1, onnotice: () => undefined });
    try {
      const viaSocket = await sql.unsafe<Array<{ id: number; doc: unknown }>>(text);
      expect(viaSocket.length).toBe(20_000);
      expect([...viaSocket]).toEqual(direct);
    } finally {
      await sql.end();
    }
  });

  it('closing waits for an open transaction, and a statement that never ran gets 57P01', async () => {
    const own = await PGlite.create();
    const ownPath = join(base, 'closing.sock');
    const server = await startWireServer({ db: own, path: ownPath });
    const a = postgres({ path: ownPath, max: 1, onnotice: () => undefined });
    const b = postgres({ path: ownPath, max: 1, onnotice: () => undefined });
    try {
      await a.unsafe('create table t (id int primary key)');
      await b.unsafe('select 1'); // connected
      let release!: () => void;
      const inTransaction = new Promise<void>((resolve) => (release = resolve));
      let began!: () => void;
      const begun = new Promise<void>((resolve) => (began = resolve));
      const transaction = a.begin(async (tx) => {
        await tx.unsafe('insert into t values (1)');
        began();
        await inTransaction;
        await tx.unsafe('insert into t values (2)');
      });
      await begun;
      const queued = b.unsafe('insert into t values (3)').then(
        () => 'ran',
        (error: { code?: string }) => error.code,
      );
      const closing = server.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      await transaction; // the holder let the open transaction finish
      await closing;
      expect(await queued).toBe('57P01');
      const rows = await own.query<{ id: number }>('select id from t order by id');
      expect(rows.rows.map((r) => r.id)).toEqual([1, 2]);
    } finally {
      await Promise.all([a.end({ timeout: 0 }), b.end({ timeout: 0 })]);
      await own.close();
    }
  });

  it('a client that vanishes inside a transaction is rolled back and blocks nobody', async () => {
    const socket = connect(path);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const startup = Buffer.concat([
      Buffer.alloc(8),
      Buffer.from('user\0postgres\0database\0postgres\0\0'),
    ]);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    const query = (text: string) => {
      const body = Buffer.from(`${text}\0`);
      const head = Buffer.alloc(5);
      head.write('Q', 0);
      head.writeInt32BE(4 + body.length, 1);
      return Buffer.concat([head, body]);
    };
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write(startup);
    socket.write(query('begin; update counter set n = -1 where id = 1;'));
    // ReadyForQuery with status T: inside the transaction.
    await expect.poll(() => received.includes('Z\0\0\0\x05T')).toBe(true);
    socket.destroy();

    const sql = postgres({ path, max: 1, onnotice: () => undefined });
    try {
      const [row] = await sql.unsafe<Array<{ n: number }>>('select n from counter where id = 1');
      expect(row!.n).not.toBe(-1);
    } finally {
      await sql.end();
    }
  });
});
