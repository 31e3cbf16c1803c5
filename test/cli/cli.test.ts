/**
 * The real `switchboard` command (the built bundle, as `npx switchboard` runs it) in a fresh data
 * folder on the embedded store, with the sandbox carrier. Each call is a new process, so every
 * step also shows that state survives a restart.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/switchboard.js');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function sb(...args: string[]): Promise<Run> {
  return sbWith({}, ...args);
}

async function sbWith(extra: Record<string, string>, ...args: string[]): Promise<Run> {
  // A clean environment: no carrier keys, so the sandbox answers.
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    SWITCHBOARD_DATA_DIR: join(dir, 'data'),
    SWITCHBOARD_APPROVERS: 'U01BOB',
    ...extra,
  };
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { env, cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function json<T>(...args: string[]): Promise<T> {
  const run = await sb(...args, '--json');
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { result: T }).result;
}

describe('switchboard CLI', () => {
  it('answers --help without touching the data folder', async () => {
    const run = await sb('--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: switchboard <command>');
    for (const name of [
      'search',
      'buy',
      'approve',
      'deny',
      'requests',
      'claim',
      'unclaim',
      'release',
      'link',
      'unlink',
      'list',
      'show',
      'sync',
      'audit',
      'migrate',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    expect(existsSync(join(dir, 'data'))).toBe(false);
    expect((await sb('buy', '--help')).stdout).toContain('Usage: switchboard buy <area code');
  });

  it('serve, mcp, token and migrate print their help and run nothing (no server, no database)', async () => {
    const helpOf = async (...args: string[]) => {
      // A server that started instead would never exit: the timeout turns that into a failure.
      const { stdout } = await exec(process.execPath, [BIN, ...args], {
        env: { PATH: process.env.PATH, HOME: dir, SWITCHBOARD_DATA_DIR: join(dir, 'data') },
        cwd: dir,
        timeout: 15_000,
      });
      return stdout;
    };
    expect(await helpOf('serve', '--help')).toMatch(/^Usage: switchboard serve$/m);
    expect(await helpOf('mcp', '--help')).toMatch(/^Usage: switchboard mcp \[--as <member id>\]$/m);
    const token = await helpOf('token', 'create', '--help');
    expect(token).toMatch(/^Usage: switchboard token create --name <name> --role/m);
    expect(token).toMatch(/switchboard token revoke <name>$/m);
    expect(await helpOf('migrate', '--help')).toMatch(/^Usage: switchboard migrate$/m);
    expect(await helpOf('help', 'serve')).toMatch(/^Usage: switchboard serve$/m);
    const described = JSON.parse(await helpOf('migrate', '--help', '--json')) as {
      result: { name: string; usage: string[] };
    };
    expect(described.result).toMatchObject({ name: 'migrate', usage: ['switchboard migrate'] });
    // migrate --help changed no database: none was even created.
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  // The first migrate creates a new data folder (PGlite's initdb, ~8 s alone on a 2-core machine),
  // in a process of its own while other test files run: more than the default 30 s when busy.
  it('migrates, and a second migrate applies nothing', async () => {
    expect((await sb('migrate')).stdout).toMatch(/Applied 001_init\.sql/);
    expect((await sb('migrate')).stdout).toMatch(/is up to date/);
  }, 90_000);

  it('search 415 lists sandbox numbers in 415 and says they are sandbox', async () => {
    const run = await sb('search', '415');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('area code 415 (San Francisco, CA)');
    const numbers = run.stdout.match(/^\+1\d{10}/gm) ?? [];
    expect(numbers.length).toBe(10);
    expect(numbers.every((n) => n.startsWith('+1415'))).toBe(true);
    expect(run.stdout).toMatch(/sandbox carrier: pretend numbers/);
  });

  it('buy -> refused approvals -> approve -> list -> audit, each in its own process', async () => {
    const bought = await json<{ request: { id: string; status: string; e164: string } }>(
      'buy',
      '415',
      '--as',
      'U01ALICE',
      '--reason',
      'Support line',
    );
    expect(bought.request.status).toBe('pending');
    const id = bought.request.id;

    const self = await sb('approve', id, '--as', 'U01ALICE');
    expect(self.code).toBe(3);
    expect(self.stderr).toMatch(/Only approvers can approve/);
    const other = await sb('approve', id, '--as', 'U01CAROL');
    expect(other.code).toBe(3);

    const approved = await sb('approve', id, '--as', 'U01BOB');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`bought ${bought.request.e164}`);
    expect(approved.stdout).toContain('assigned it to U01ALICE');

    const list = await sb('list', '--as', 'U01ALICE');
    expect(list.stdout).toContain(bought.request.e164);
    expect(list.stdout).toMatch(/U01ALICE\s+1\s+\$1\.00/);

    const audit = await json<{
      events: Array<{ actor: string; command: string; outcome: string; requestId: string | null }>;
    }>('audit', id);
    expect(audit.events.map((e) => [e.actor, e.command, e.outcome]).reverse()).toEqual([
      ['U01ALICE', 'buy', 'ok'],
      ['U01ALICE', 'approve', 'refused'],
      ['U01CAROL', 'approve', 'refused'],
      ['U01BOB', 'approve', 'ok'],
    ]);
  });

  it('an approver who requested cannot approve their own request (exit 3)', async () => {
    const bought = await json<{ request: { id: string } }>('buy', '212', '--as', 'U01BOB');
    const run = await sb('approve', bought.request.id, '--as', 'U01BOB');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot approve your own request/);
  });

  it('bad input exits 2 with what to type and changes nothing but the audit of the refusal', async () => {
    const numbersBefore = await json<unknown>('list', 'all');
    const requestsBefore = await json<unknown>('requests', 'all');
    const auditBefore = await json<{ events: unknown[] }>('audit', '--limit', '1000');

    const cases: Array<[string[], RegExp]> = [
      [['claim', '+1415'], /E\.164 form, e\.g\. \+14155550123/],
      [['search', '41'], /give three digits, e\.g\. search 415/],
      [['frobnicate'], /Unknown command "frobnicate"\. Commands: search, buy/],
      [
        ['claim'],
        /claim needs the number to claim, e\.g\. claim \+14155550142\. Usage: claim <\+E\.164>/,
      ],
      [['buy', '415', '--colour', 'red'], /no option --colour/],
    ];
    for (const [args, message] of cases) {
      const run = await sb(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(await json('list', 'all')).toEqual(numbersBefore);
    expect(await json('requests', 'all')).toEqual(requestsBefore);
    const auditAfter = await json<{ events: Array<{ outcome: string; errorCode: string }> }>(
      'audit',
      '--limit',
      '1000',
    );
    // Three reads above were audited too (list, requests, audit): the five refusals come before them.
    const added = auditAfter.events.slice(0, auditAfter.events.length - auditBefore.events.length);
    expect(added.filter((e) => e.outcome === 'refused').map((e) => e.errorCode)).toEqual(
      Array(5).fill('INVALID_INPUT'),
    );
    expect(added.filter((e) => e.outcome === 'ok')).toHaveLength(3);
  });

  it('an unreachable database is a clear error that never shows the password in DATABASE_URL', async () => {
    const password = 'PASSWORD_TEST_FAKE_7731';
    const run = await sbWith(
      { DATABASE_URL: `postgres://switchboard:${password}@127.0.0.1:1/switchboard` },
      'list',
      'all',
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unreachable|DATABASE_URL/);
    expect(run.stdout + run.stderr).not.toContain(password);
    const migrate = await sbWith(
      { DATABASE_URL: `postgres://switchboard:${password}@127.0.0.1:1/switchboard` },
      'migrate',
    );
    expect(migrate.code).not.toBe(0);
    expect(migrate.stdout + migrate.stderr).not.toContain(password);
  });

  it('--json prints one JSON document, errors included', async () => {
    const ok = await sb('search', '604', '--limit', '2', '--json');
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      command: 'search',
      result: { quotes: [{}, {}] },
    });
    const bad = await sb('search', '41', '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('sync imports the sandbox account into the pool, and a member claims from it', async () => {
    const sync = await sb('sync');
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/sandbox\s+\d+\s+5\s+0/);
    const claim = await sb('claim', '+14155550142', '--as', 'U01CAROL');
    expect(claim.stdout).toContain("it is now U01CAROL's");
    const again = await sb('claim', '+14155550142', '--as', 'U01DAVE');
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('already belongs to U01CAROL');
  });

  it('provision: region fallback, approval, then the link; --existing claims and links', async () => {
    const run = await sb(
      'provision',
      '+1 650 555 2671',
      'retell:agent_sandbox_support',
      '--reason',
      'Acme front desk',
      '--as',
      'U01CAROL',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /Searched area code 650 \(Palo Alto, CA\): none; CA, US: \d+ found\./,
    );
    expect(run.stdout).toMatch(/in the same region/);
    expect(run.stdout).toMatch(/Once bought, it is linked to retell:agent_sandbox_support/);
    const id = /Request (R-[0-9A-Z]+)/.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    const approved = await sb('approve', id!, '--as', 'U01BOB');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(
      /assigned it to U01CAROL; linked to retell:agent_sandbox_support/,
    );
    const existing = await sb(
      'provision',
      '+12125550117',
      'vapi:asst_sandbox_reception',
      '--existing',
      '--as',
      'U01CAROL',
    );
    expect(existing.code, existing.stderr).toBe(0);
    expect(existing.stdout).toMatch(
      /claimed for U01CAROL, linked to vapi:asst_sandbox_reception\. Nothing was bought\./,
    );
  });
});
