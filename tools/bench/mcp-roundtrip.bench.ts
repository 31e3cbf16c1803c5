/**
 * MCP round trip: `list_numbers` (scope all: the default page of 100 rows, and 1,000 rows)
 * with 10,000 numbers in an embedded store, through the SDK's own Client, over stdio against the
 * built `switchboard mcp` and over Streamable HTTP against createMcpHttpHandler on a local server
 * (as `serve` mounts it). Round trip: from callTool to its validated result. Goal: p50 under
 * 10 ms over HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import pino from 'pino';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { App } from '../../src/app.js';
import { buildAgents, buildCarriers } from '../../src/app.js';
import { randomIds } from '../../src/core/ids.js';
import { openPgliteStore } from '../../src/store/pglite-store.js';
import { loadConfig } from '../../src/config/config.js';
import type { Store, SyncRow } from '../../src/core/ports.js';
import type { McpHttpHandler } from '../../src/mcp/http.js';
import { createMcpHttpHandler } from '../../src/mcp/http.js';
import { generateToken, hashToken } from '../../src/mcp/tokens.js';

const NUMBERS = 10_000;
const WARMUP = 20;
const CALLS = 200;
// Bundled into node_modules/.cache by tools/bench.mjs, which runs from the repository root.
const BIN = join(process.cwd(), 'bin', 'switchboard.js');

type Row = {
  name: string;
  value: number;
  unit: string;
  goal: string;
  met: boolean | null;
  digits?: number;
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const log = (message: string) => process.stderr.write(`bench mcp: ${message}\n`);

async function roundTrips(client: Client, args: Record<string, unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const start = performance.now();
    const result = await client.callTool({ name: 'list_numbers', arguments: args });
    const ms = performance.now() - start;
    if (result.isError) throw new Error(`list_numbers failed: ${JSON.stringify(result.content)}`);
    if (i >= WARMUP) times.push(ms);
  }
  return times;
}

function rows(transport: string, label: string, times: number[], goal: boolean): Row[] {
  const p50 = percentile(times, 50);
  return [
    {
      name: `MCP list_numbers ${label} over ${transport}, p50 of ${CALLS} (10,000 numbers in the store)`,
      value: p50,
      unit: 'ms',
      goal: goal ? '< 10 ms' : 'informational',
      met: goal ? p50 < 10 : null,
      digits: 1,
    },
    {
      name: `MCP list_numbers ${label} over ${transport}, p99`,
      value: percentile(times, 99),
      unit: 'ms',
      goal: 'informational',
      met: null,
      digits: 1,
    },
  ];
}

const CASES: Array<{ label: string; args: Record<string, unknown>; goal: boolean }> = [
  // The goal is measured on the call a model makes: the default page (100 rows, totals over all).
  { label: '(scope all, default page of 100 rows)', args: { scope: 'all' }, goal: true },
  { label: '(scope all, limit 1,000 rows)', args: { scope: 'all', limit: 1000 }, goal: false },
];

/** 10,000 numbers through the store's own sync path, and one reader token. */
async function seed(store: Store): Promise<string> {
  const token = generateToken();
  await store.createApiToken({
    name: 'bench',
    role: 'reader',
    tokenHash: hashToken(token),
    createdBy: 'bench',
    now: new Date(),
  });
  const begun = await store.syncBegin('S-BENCH', 'sandbox', 'bench', new Date());
  if (begun.status !== 'started') throw new Error('could not start the seeding sync');
  for (let start = 0; start < NUMBERS; start += 1000) {
    const batch: SyncRow[] = Array.from({ length: 1000 }, (_, i) => ({
      e164: `+1415${String(2_000_000 + start + i).padStart(7, '0')}`,
      carrierRef: `sbx-bench-${start + i}`,
      carrierAccount: null,
      country: 'US',
      region: 'CA',
      locality: 'San Francisco',
      numberType: 'local',
      features: ['voice', 'sms'],
      monthlyCost: 1,
      upfrontCost: 1,
      currency: 'USD',
    }));
    await store.syncBatch('S-BENCH', 'sandbox', batch);
  }
  await store.syncFinish('S-BENCH', new Date());
  return token;
}

/** Round trips, or one row saying why the transport could not be measured. */
async function measure(transport: string, client: Client, out: Row[]): Promise<void> {
  for (const c of CASES) {
    try {
      out.push(
        ...rows(
          transport,
          c.label,
          await roundTrips(client, c.args),
          c.goal && transport !== 'stdio',
        ),
      );
    } catch (error) {
      out.push({
        name: `MCP list_numbers ${c.label} over ${transport}: failed (${(error as Error).message.slice(0, 160)})`,
        value: Number.NaN,
        unit: 'ms',
        goal: 'runs',
        met: false,
      });
    }
    log(`${transport} ${c.label} done`);
  }
}

export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-mcp-bench-'));
  const env = { PATH: process.env.PATH ?? '', HOME: dir, SWITCHBOARD_DATA_DIR: join(dir, 'data') };
  const out: Row[] = [];
  try {
    const config = loadConfig(env);
    // HTTP: an in-memory PGlite in this process (the embedded store's sharing socket is not part
    // of what is measured), seeded like the data folder the stdio server opens.
    const memory = await openPgliteStore();
    const token = await seed(memory);
    const app: App = {
      config,
      deps: {
        store: memory,
        carriers: await buildCarriers(config),
        agents: await buildAgents(config),
        policy: config.policy,
        clock: { now: () => new Date() },
        ids: randomIds,
      },
      storeLabel: 'memory',
      close: () => memory.close(),
    };
    // HTTP: the handler `serve` mounts, on a local server, in this process.
    const mount: { handler?: McpHttpHandler } = {};
    const server = createServer((req, res) => void mount.handler?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const mounted = await createMcpHttpHandler(app, {
      allowedHosts: [host],
      logger: pino({ level: 'error' }, pino.destination(2)),
    });
    mount.handler = mounted;
    const http = new Client({ name: 'bench-http', version: '1.0.0' });
    await http.connect(
      new StreamableHTTPClientTransport(new URL(`http://${host}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    await measure('Streamable HTTP', http, out);
    await http.close();
    await mounted.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await app.close();

    // stdio: the data folder seeded the same way, then the built `switchboard mcp` opens it.
    const folder = await openPgliteStore({ dataDir: env.SWITCHBOARD_DATA_DIR });
    await seed(folder);
    await folder.close();
    // stdio: the built `switchboard mcp`, as an assistant starts it.
    const stdio = new Client({ name: 'bench-stdio', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp'],
      env: { ...env, LOG_LEVEL: 'warn' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on(
      'data',
      (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-400)),
    );
    try {
      await stdio.connect(transport);
      await measure('stdio', stdio, out);
      await stdio.close();
    } catch (error) {
      out.push({
        name: `MCP over stdio: failed (${(error as Error).message}; stderr: ${stderr.trim()})`,
        value: Number.NaN,
        unit: 'ms',
        goal: 'runs',
        met: false,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
