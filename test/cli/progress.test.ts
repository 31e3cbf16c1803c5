/**
 * The terminal progress bar: the line it draws (bar, count, total, rate, elapsed), its redraw
 * throttle, and the CLI drawing it on a (fake) terminal's stderr during a sync, never on stdout
 * and never with --json; and the line the first command on a new embedded store writes there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { main, type CliIo } from '../../src/cli/main.js';
import {
  createProgressBar,
  formatElapsed,
  renderBar,
  renderProgressLine,
} from '../../src/cli/progress.js';
import { loadConfig } from '../../src/config/config.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { makeDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';

describe('progress line', () => {
  it('draws a bar with count, total, percent, rate and elapsed time', () => {
    const line = renderProgressLine(
      { phase: 'sync telnyx', done: 42_000, total: 100_000, message: '41000 new, 2 updated' },
      5_000,
      120,
    );
    expect(line).toBe(
      `sync telnyx  ${renderBar(42_000, 100_000)}  42,000/100,000  42%  8,400/s  0:05  (41000 new, 2 updated)`,
    );
    expect(renderBar(42_000, 100_000, 10)).toBe('[████░░░░░░]');
    expect(renderBar(5, 0, 4)).toBe('[░░░░]');
    expect(renderBar(150, 100, 4)).toBe('[████]');
  });

  it('without a total shows the count alone; no rate in the first half second', () => {
    expect(renderProgressLine({ phase: 'sync twilio', done: 3000 }, 2_000)).toBe(
      'sync twilio  3,000 numbers  1,500/s  0:02',
    );
    expect(renderProgressLine({ phase: 'sync twilio', done: 0 }, 100)).toBe(
      'sync twilio  0 numbers  0:00',
    );
  });

  it('fits the terminal width', () => {
    const line = renderProgressLine(
      { phase: 'sync telnyx', done: 1, total: 2, message: 'x'.repeat(200) },
      1_000,
      60,
    );
    expect(line).toHaveLength(59);
    expect(line.endsWith('…')).toBe(true);
  });

  it('formats elapsed time as m:ss and h:mm:ss', () => {
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(65_400)).toBe('1:05');
    expect(formatElapsed(3_725_000)).toBe('1:02:05');
  });
});

describe('progress bar', () => {
  it('redraws in place at most every 100 ms, always the final state, and clears the line', () => {
    let now = 0;
    const writes: string[] = [];
    const bar = createProgressBar({ write: (t) => writes.push(t), now: () => now });
    bar.update({ phase: 'sync', done: 0, total: 300 });
    now = 50;
    bar.update({ phase: 'sync', done: 100, total: 300 }); // too soon: held back
    expect(writes).toHaveLength(1);
    now = 150;
    bar.update({ phase: 'sync', done: 200, total: 300 });
    expect(writes).toHaveLength(2);
    now = 160;
    bar.update({ phase: 'sync', done: 300, total: 300 }); // complete: drawn at once
    expect(writes).toHaveLength(3);
    bar.finish();
    expect(writes.every((w) => w.startsWith('\r\x1b[K'))).toBe(true);
    expect(writes[2]).toContain('300/300  100%');
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('finish draws an update the throttle held back', () => {
    let now = 0;
    const writes: string[] = [];
    const bar = createProgressBar({ write: (t) => writes.push(t), now: () => now });
    bar.update({ phase: 'sync', done: 10 });
    now = 10;
    bar.update({ phase: 'sync', done: 20 });
    bar.finish();
    expect(writes).toHaveLength(3);
    expect(writes[1]).toContain('20 numbers');
  });

  it('writes nothing when nothing was reported', () => {
    const writes: string[] = [];
    createProgressBar({ write: (t) => writes.push(t) }).finish();
    expect(writes).toEqual([]);
  });
});

describe('switchboard sync on a terminal', () => {
  let store: SqlStore;
  beforeEach(async () => {
    store = await freshPglite();
  });
  afterEach(async () => {
    await store.close();
  });

  async function sync(isTTY: boolean, ...flags: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const env = { SWITCHBOARD_ADMINS: 'U01ADMIN' };
    // A sandbox account of 2,500 numbers: three batches, so the bar moves.
    const deps = makeDeps(store, { carrier: { extraOwned: 2_500 } });
    const io: CliIo = {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env,
      isTTY,
      openApp: () =>
        Promise.resolve({
          config: loadConfig(env),
          deps,
          storeLabel: 'test',
          close: () => Promise.resolve(),
        } satisfies App),
    };
    const code = await main(['sync', '--as', 'U01ADMIN', ...flags], io);
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  it('draws the bar on stderr, ends with the line cleared, and keeps stdout for the answer', async () => {
    const run = await sync(true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/sync sandbox {2}2,\d{3} numbers/);
    expect(run.stderr.endsWith('\r\x1b[K')).toBe(true);
    expect(run.stdout).not.toContain('\x1b[');
    expect(run.stdout).toContain('Sync finished.');
  });

  it('draws nothing when stderr is not a terminal, or with --json', async () => {
    expect((await sync(false)).stderr).toBe('');
    const json = await sync(true, '--json');
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, command: 'sync' });
  });
});

describe('the first command on a new embedded store, on a terminal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-first-run-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function list(isTTY: boolean, ...flags: string[]) {
    const err: string[] = [];
    const out: string[] = [];
    const io: CliIo = {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env: { SWITCHBOARD_DATA_DIR: join(dir, 'data') },
      isTTY,
    };
    const code = await main(['list', '--as', 'U01ALICE', ...flags], io);
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  it('says it is creating the database (it takes seconds), once, and never with --json or off a terminal', async () => {
    const first = await list(true);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe(
      `Creating the embedded database in ${join(dir, 'data')} (first run only, a few seconds)…\n`,
    );
    const second = await list(true);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toBe('');

    rmSync(join(dir, 'data'), { recursive: true, force: true });
    const json = await list(true, '--json');
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    const piped = await list(false);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  }, 120_000);
});
