/**
 * No secrets anywhere (issue 8, item 5). Every variable in SECRET_VARIABLES gets a recognisable
 * fake value; every carrier, agent platform and Slack URL points at a local server that refuses
 * everything and echoes back what it was sent (the Authorization header, the URL), so that errors
 * are as likely as possible to carry a key. Then every CLI command runs, `serve` answers signed
 * Slack commands, MCP tools are called, and the test searches stdout, stderr, the logs, the audit
 * rows, every table and every byte of the data folder for the values: none may appear.
 *
 * DATABASE_URL and the Supabase pair replace the store, so they run in their own phases.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../../src/app.js';
import { main } from '../../src/cli/main.js';
import { loadConfig, SECRET_VARIABLES, secretValues } from '../../src/config/config.js';
import { createLogger } from '../../src/config/logger.js';
import { startServer } from '../../src/server/server.js';
import { openPgliteExecutor } from '../../src/store/pglite-store.js';
import { connectInMemory, MCP_LOCAL } from '../mcp/helpers.js';
import { postSigned, slashBody } from '../slack/fake-slack.js';
import type { FakeSlack } from '../slack/fake-slack.js';
import { listenLocal } from '../helpers/local-http.js';

const fake = (name: string) => `FAKE-SECRET-${name}-7f3a`;
const SECRETS: Record<(typeof SECRET_VARIABLES)[number], string> = {
  DATABASE_URL: `postgres://switchboard:${fake('DATABASE_URL')}@127.0.0.1:1/switchboard`,
  SUPABASE_SERVICE_ROLE_KEY: fake('SUPABASE_SERVICE_ROLE_KEY'),
  TELNYX_API_KEY: fake('TELNYX_API_KEY'),
  TWILIO_AUTH_TOKEN: fake('TWILIO_AUTH_TOKEN'),
  TWILIO_API_SECRET: fake('TWILIO_API_SECRET'),
  RETELL_API_KEY: fake('RETELL_API_KEY'),
  RETELL_SIP_PASSWORD: fake('RETELL_SIP_PASSWORD'),
  VAPI_API_KEY: fake('VAPI_API_KEY'),
  SLACK_BOT_TOKEN: `xoxb-${fake('SLACK_BOT_TOKEN')}`,
  SLACK_SIGNING_SECRET: fake('SLACK_SIGNING_SECRET'),
  SLACK_APP_TOKEN: `xapp-${fake('SLACK_APP_TOKEN')}`,
};
const TWILIO_SID = `AC${'fa4e'.repeat(8)}`;

/** What to look for: each value, the distinctive part of each, and the encodings a client sends. */
function needles(): Array<[string, string]> {
  const list: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(SECRETS)) {
    list.push([name, value]);
    list.push([`${name} (core)`, fake(name)]);
  }
  const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');
  list.push(['Twilio basic auth', basic(TWILIO_SID, SECRETS.TWILIO_AUTH_TOKEN)]);
  list.push(['Twilio API key basic auth', basic('SKfake', SECRETS.TWILIO_API_SECRET)]);
  list.push(['any fake secret', 'FAKE-SECRET-']);
  return list;
}

function findSecrets(where: string, text: string): string[] {
  return needles()
    .filter(([, needle]) => text.includes(needle))
    .map(([name]) => `${where}: ${name}`);
}

// ------------------------------------------------------------------------------------------------
// A server that refuses everything and repeats the request back, the worst case for a leak.

let echo: { url: string; close(): Promise<void>; seen: number };
/** Off: Slack's Web API echoes the request too (worst case). On: it answers like Slack does. */
let slackRealistic = false;
let basicAuthEchoes: string[] = ['(the scan did not run)'];
function echoHandler(req: IncomingMessage, res: ServerResponse) {
  echo.seen++;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const said = `${req.method} ${req.url} authorization=${req.headers.authorization ?? ''} apikey=${req.headers.apikey ?? ''} body=${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`;
    if (slackRealistic && req.url?.startsWith('/api/')) {
      // Slack's own answers carry error codes only; auth.test must pass for serve to start.
      const method = req.url.slice('/api/'.length);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          method === 'auth.test'
            ? { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0TEST' }
            : method === 'chat.postMessage'
              ? { ok: true, channel: 'C0APPROVALS', ts: '1700000000.000100' }
              : { ok: false, error: 'invalid_auth' },
        ),
      );
      return;
    }
    const status = req.url?.startsWith('/api/')
      ? 200
      : req.url?.length && req.url.length % 2
        ? 500
        : 401;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        ok: false,
        error: `invalid_auth: ${said}`,
        message: `Authentication failed for ${said}`,
        errors: [{ code: '10009', title: 'Authentication failed', detail: said }],
        code: 20003,
        more_info: said,
      }),
    );
  });
}

let root: string;
const outputs: Array<[string, string]> = [];
const log: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    log.push(String(chunk));
    done();
  },
});

function envFor(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SWITCHBOARD_DATA_DIR: join(root, 'data'),
    SWITCHBOARD_APPROVERS: 'U01BOB',
    SWITCHBOARD_ADMINS: 'U01ADMIN',
    TELNYX_API_KEY: SECRETS.TELNYX_API_KEY,
    TELNYX_BASE_URL: `${echo.url}/telnyx`,
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: SECRETS.TWILIO_AUTH_TOKEN,
    TWILIO_API_KEY: 'SKfake',
    TWILIO_API_SECRET: SECRETS.TWILIO_API_SECRET,
    TWILIO_BASE_URL: `${echo.url}/twilio`,
    RETELL_API_KEY: SECRETS.RETELL_API_KEY,
    RETELL_BASE_URL: `${echo.url}/retell`,
    RETELL_SIP_PASSWORD: SECRETS.RETELL_SIP_PASSWORD,
    VAPI_API_KEY: SECRETS.VAPI_API_KEY,
    VAPI_BASE_URL: `${echo.url}/vapi`,
    SLACK_BOT_TOKEN: SECRETS.SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
    SLACK_API_URL: `${echo.url}/api/`,
    SLACK_APPROVAL_CHANNEL: 'C0APPROVALS',
    LOG_LEVEL: 'trace',
    ...extra,
  };
}

async function cli(env: Record<string, string>, args: string[]): Promise<number> {
  let out = '';
  const code = await main(args, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
    env,
  });
  outputs.push([`switchboard ${args.join(' ')}`, out]);
  return code;
}

/** Every CLI command, with arguments that reach the carriers and platforms where they can. */
const CLI_RUNS: string[][] = [
  ['search', '415'],
  ['search', '415', '--carrier', 'telnyx'],
  ['search', '415', '--carrier', 'twilio'],
  ['search', 'San Francisco', '--json'],
  ['buy', '415', '--reason', 'secret scan', '--as', 'U01ALICE'],
  ['buy', '+14155550100', '--carrier', 'twilio', '--as', 'U01ALICE'],
  ['requests', 'all'],
  ['request', 'R-ABCDEFGH'],
  ['approve', 'R-ABCDEFGH', '--as', 'U01BOB'],
  ['deny', 'R-ABCDEFGH', '--as', 'U01BOB'],
  ['claim', '+14155550142', '--as', 'U01ALICE'],
  ['release', '+14155550142', '--unlink', '--as', 'U01ALICE'],
  ['link', '+14155550142', 'retell:agent_x', '--as', 'U01ALICE'],
  ['link', '+14155550142', 'vapi:asst_x', '--as', 'U01ALICE'],
  ['unlink', '+14155550142'],
  ['list', 'all'],
  ['show', '+14155550142'],
  ['agents'],
  ['agents', '--json'],
  ['sync'],
  ['sync', '--json'],
  ['accounts', 'list'],
  ['accounts', 'create', 'Support team'],
  ['audit'],
  ['audit', '--json'],
  ['provision', '+14155550100'],
  ['token', 'create', '--name', 'scan', '--role', 'reader'],
  ['token', 'list'],
  ['migrate'],
  ['nonsense'],
  ['--help'],
];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'switchboard-secrets-'));
  const local = await listenLocal(createServer(echoHandler));
  echo = { url: local.url, close: local.close, seen: 0 };
}, 60_000);
afterAll(async () => {
  await echo?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('no secrets anywhere', { timeout: 600_000 }, () => {
  it('configures every secret variable (the test covers them all)', () => {
    expect(Object.keys(SECRETS).sort()).toEqual([...SECRET_VARIABLES].sort());
  });

  it('CLI, Slack and MCP with every key set and every vendor refusing: no secret in any output, log, audit row, table or file', async () => {
    const env = envFor();
    for (const args of CLI_RUNS) await cli(env, args);
    // serve with a Slack that refuses the bot token and echoes it back: it must stop, masked.
    expect(await cli({ ...env, PORT: '0' }, ['serve'])).not.toBe(0);
    expect(outputs.at(-1)![1]).toContain('Slack refused SLACK_BOT_TOKEN');
    slackRealistic = true;

    // serve: signed /number commands through the real Slack receiver; MCP tools over memory.
    const config = loadConfig(env);
    const app = await openApp(config);
    const logger = createLogger({ level: 'trace', stream: logStream, secrets: secretValues(env) });
    try {
      const server = await startServer(app, {
        host: '127.0.0.1',
        port: 0,
        logger,
        env: config.env,
        jobs: false,
      });
      try {
        const responder = { responseUrl: (id: string) => `${echo.url}/response/${id}` };
        for (const text of [
          'help',
          'search 415',
          'buy 415 --reason scan',
          'claim +14155550142',
          'release +14155550142',
          'link +14155550142 retell:agent_x',
          'unlink +14155550142',
          'list all',
          'requests',
          'sync',
          'provision +14155550100',
          'agents',
        ]) {
          const res = await postSigned(
            server.url,
            slashBody(responder as FakeSlack, 'U01ADMIN', text, `scan-${text}`),
            { secret: SECRETS.SLACK_SIGNING_SECRET },
          );
          outputs.push([`slack ${text} (HTTP answer)`, `${res.status} ${await res.text()}`]);
        }
        await new Promise((resolve) => setTimeout(resolve, 2000)); // replies are posted after the ack
      } finally {
        await server.close();
      }
      const mcp = await connectInMemory(app.deps, MCP_LOCAL);
      try {
        const { tools } = await mcp.client.listTools();
        const sample: Record<string, unknown> = {
          query: '415',
          target: '415',
          number: '+14155550142',
          agent: 'retell:agent_x',
          id: 'R-ABCDEFGH',
          business_phone: '+14155550100',
        };
        for (const tool of tools) {
          // Each tool gets only the arguments it has: it refuses any other (so would not run).
          const known = new Set(Object.keys(tool.inputSchema.properties ?? {}));
          const own = Object.fromEntries(Object.entries(sample).filter(([key]) => known.has(key)));
          for (const args of [{}, own]) {
            const result = await mcp.client
              .callTool({ name: tool.name, arguments: args })
              .catch((error: unknown) => ({ thrown: String(error) }));
            outputs.push([`mcp ${tool.name}`, JSON.stringify(result)]);
          }
        }
      } finally {
        await mcp.close();
      }
    } finally {
      await app.close();
    }
    expect(echo.seen).toBeGreaterThan(10); // the vendors really were called

    const found: string[] = [];
    for (const [where, text] of outputs) found.push(...findSecrets(where, text));
    found.push(...findSecrets('logs', log.join('')));
    // The MCP bearer token `token create` printed once: stored as a hash only, never logged.
    const created = outputs.find(([where]) => where.startsWith('switchboard token create'))!;
    const token = /sbt_[A-Za-z0-9_-]{43}/.exec(created[1])?.[0];
    expect(token, created[1]).toBeDefined();
    const tokenIn = (where: string, text: string) =>
      text.includes(token!) ? [`${where}: the MCP bearer token`] : [];
    found.push(...tokenIn('logs', log.join('')));
    for (const [where, text] of outputs.filter((o) => o !== created))
      found.push(...tokenIn(where, text));

    // The database: every row of every table, as the database itself prints it.
    const db = await openPgliteExecutor({ dataDir: join(root, 'data') });
    try {
      const tables = await db.query<{ name: string }>(
        `select table_schema || '.' || table_name as name from information_schema.tables
         where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`,
      );
      expect(tables.map((t) => t.name)).toContain('switchboard.audit_events');
      for (const { name } of tables) {
        const rows = await db.query<{ r: string }>(`select t::text as r from ${name} t`);
        const dump = rows.map((r) => r.r).join('\n');
        found.push(...findSecrets(`table ${name}`, dump), ...tokenIn(`table ${name}`, dump));
      }
      const audit = await db.query<{ n: number }>(
        'select count(*)::int as n from switchboard.audit_events',
      );
      expect(audit[0]!.n).toBeGreaterThan(CLI_RUNS.length);
    } finally {
      await db.close();
    }
    // And every byte of every file in the data folder (tables, WAL, sandbox state).
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? walk(path) : [path];
      });
    for (const path of walk(join(root, 'data'))) {
      try {
        const bytes = readFileSync(path, 'latin1');
        const where = `file ${path.slice(root.length)}`;
        found.push(...findSecrets(where, bytes), ...tokenIn(where, bytes));
      } catch {
        // a socket or a file gone meanwhile
      }
    }
    const redactions = [...outputs, ['logs', log.join('')] as [string, string]]
      .filter(([, text]) => text.includes('[redacted]'))
      .map(([where]) => where);
    console.log(
      `secrets scan: ${outputs.length} outputs, ${log.length} log lines, ${echo.seen} vendor calls; masked at the edge in: ${redactions.join('; ') || 'none'}`,
    );
    // The raw values: nowhere. The Basic-auth encoding a vendor could echo back is checked apart
    // (a known gap, reported; see the next test).
    basicAuthEchoes = found.filter((f) => f.endsWith('basic auth'));
    expect(found.filter((f) => !f.endsWith('basic auth'))).toEqual([]);
  });

  // A server that echoes the request sends the `Basic base64(key:secret)` form back in its error
  // text; the Twilio adapter scrubs that form as well as the raw secrets.
  it('a vendor that echoes the Authorization header cannot plant the Basic credentials anywhere', () => {
    expect(basicAuthEchoes).toEqual([]);
  });

  it('DATABASE_URL with a password: no command shows it', async () => {
    const env = { ...envFor({ DATABASE_URL: SECRETS.DATABASE_URL }) };
    const found: string[] = [];
    for (const args of [['search', '415'], ['list'], ['migrate'], ['sync', '--json'], ['audit']]) {
      outputs.length = 0;
      await cli(env, args);
      for (const [where, text] of outputs) found.push(...findSecrets(where, text));
      expect(outputs[0]![1]).toMatch(/error/i);
    }
    expect(found).toEqual([]);
  });

  it('the Supabase store with its service-role key against a refusing server: no command shows it', async () => {
    const env = envFor({
      SUPABASE_URL: `${echo.url}/supabase`,
      SUPABASE_SERVICE_ROLE_KEY: SECRETS.SUPABASE_SERVICE_ROLE_KEY,
    });
    const found: string[] = [];
    for (const args of [['search', '415'], ['list'], ['migrate'], ['sync', '--json'], ['audit']]) {
      outputs.length = 0;
      await cli(env, args);
      for (const [where, text] of outputs) found.push(...findSecrets(where, text));
    }
    expect(found).toEqual([]);
  });
});
