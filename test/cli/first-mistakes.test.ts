/**
 * The mistakes a new user makes at the terminal, and the answers they read: a flag where a value
 * belongs, help for a command that does not exist, one dash instead of two, extra words, a data
 * folder that cannot be opened.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { main } from '../../src/cli/main.js';
import { freshCliApp, runCli } from '../helpers/cli-in-process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-mistakes-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** main() with no test app: what a user gets before any store is opened, in a folder of ours. */
async function bare(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { SWITCHBOARD_DATA_DIR: join(dir, 'data'), ...env },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

describe('mistakes caught before anything runs', () => {
  it('--as followed by another flag is a missing member id, not a member called "--json"', async () => {
    const run = await bare(['list', '--as', '--json']);
    expect(run.code).toBe(2);
    // --json was asked for, so the refusal is one JSON document on stdout.
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: '--as needs a member id, e.g. --as U01ALICE' },
    });
    const inline = await bare(['list', '--as=-v']);
    expect(inline.code).toBe(2);
    expect(inline.stderr).toMatch(/"-v" is not a member id/);
  });

  it('help for a command that does not exist says so (exit 2) instead of the general help', async () => {
    const run = await bare(['help', 'serch']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^error: Unknown command "serch"\. Did you mean search\? Commands: search, buy/,
    );
    expect((await bare(['help', 'search'])).stdout).toMatch(/^Usage: switchboard search/m);
  });

  it('a mistyped command is answered with the command meant, when one is close', async () => {
    const guesses: Array<[string, string | null]> = [
      ['lsit', 'list'],
      ['reqeusts', 'requests'],
      ['BUY', 'buy'],
      ['provison', 'provision'],
      ['frobnicate', null],
      ['ls', null],
    ];
    for (const [typed, meant] of guesses) {
      const run = await bare(['help', typed]);
      expect(run.code, typed).toBe(2);
      if (meant)
        expect(run.stderr, typed).toContain(`Unknown command "${typed}". Did you mean ${meant}? `);
      else expect(run.stderr, typed).toContain(`Unknown command "${typed}". Commands: `);
    }
  });

  it('migrate refuses words it does not take, and touches no database', async () => {
    const run = await bare(['migrate', 'now']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: migrate does not take "now". Usage: switchboard migrate\n');
  });

  it('the command list marks what spends money and what only admins may do', async () => {
    const run = await bare(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {2}sync +Import the carrier account.*\[admins only\]$/m);
    expect(run.stdout).toMatch(/^ {2}accounts +.*\[admins only\]$/m);
    expect(run.stdout).toMatch(/^ {2}buy +.*\[spends money\]$/m);
    expect(run.stdout).not.toMatch(/^ {2}list +.*\[admins only\]$/m);
  });

  it('every command help lists its options, --json and --as included; deny shows --reason', async () => {
    const deny = await bare(['deny', '--help']);
    expect(deny.stdout).toMatch(/^Options: --reason, --json, --as <member id>$/m);
    const claim = await bare(['claim', '--help']);
    expect(claim.stdout).toMatch(/^Options: --json, --as <member id>$/m);
    const search = await bare(['search', '--help']);
    expect(search.stdout).toMatch(/^Options: --contains, --region, .*--limit, --json, --as/m);
  });

  it('a data folder that cannot be opened is named, with the reason, not "something went wrong"', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const run = await bare(['list'], { SWITCHBOARD_DATA_DIR: file });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Cannot open the embedded database in ${file} (SWITCHBOARD_DATA_DIR): EEXIST`,
    );
  });
});

describe('mistakes answered by the command', () => {
  let app: App;
  beforeEach(async () => {
    app = await freshCliApp();
    return () => app.close();
  });

  it('one dash instead of two is refused with the option meant, not read as a city', async () => {
    const run = await runCli(app, ['search', '415', '-l', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^error: search has no option -l: options take two dashes\. Did you mean --limit\? Options: --contains/,
    );
    // The refusal is audited like any other.
    const audit = await runCli(app, ['audit', '--json']);
    expect(JSON.parse(audit.stdout).result.events[0]).toMatchObject({
      command: 'search',
      outcome: 'refused',
      errorCode: 'INVALID_INPUT',
    });
    // A value that starts with a dash after a --flag is still that flag's value.
    const reason = await runCli(app, ['buy', '415', '--reason', '-urgent', '--as', 'U01ALICE']);
    expect(reason.code, reason.stderr).toBe(0);
  });
});
