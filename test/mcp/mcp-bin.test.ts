/**
 * The built `switchboard` (bin/switchboard.js): `mcp` over stdio with the SDK's
 * StdioClientTransport, `token create|list|revoke`, and MCP over HTTP through `serve`, each in a
 * fresh data folder on the embedded store with the sandbox carrier.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/switchboard.js');
// Every step is a new process opening the embedded store (a new one takes seconds to create).
const SLOW = { timeout: 240_000 };

let dir: string;
let env: Record<string, string>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-mcp-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    SWITCHBOARD_DATA_DIR: join(dir, 'data'),
    SWITCHBOARD_APPROVERS: 'U01BOB',
    SWITCHBOARD_ADMINS: 'U01ADMIN',
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function sb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { env, cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const structured = (result: unknown) =>
  (result as CallToolResult).structuredContent as Record<string, unknown>;

/** Runs `switchboard mcp` with a Client over stdio; waits for the process to exit afterwards. */
async function withStdio<T>(args: string[], use: (client: Client) => Promise<T>): Promise<T> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', ...args],
    env,
    cwd: dir,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'switchboard-stdio-test', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid as number;
  try {
    return await use(client);
  } finally {
    await client.close();
    await expect
      .poll(
        () => {
          try {
            process.kill(pid, 0);
            return 'running';
          } catch {
            return 'exited';
          }
        },
        { timeout: 15_000 },
      )
      .toBe('exited');
    // Logs went to stderr (stdout carried only the protocol, or the client would have failed).
    expect(stderr).toContain('switchboard MCP server ready on stdio');
  }
}

describe('switchboard mcp (stdio)', SLOW, () => {
  it('serves the tools; a purchase requested as --as stays pending until a CLI approver decides', async () => {
    const requestId = await withStdio(['--as', 'U01ALICE'], async (client) => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['search_numbers', 'request_purchase', 'list_numbers']),
      );
      const requested = structured(
        await client.callTool({ name: 'request_purchase', arguments: { target: '415' } }),
      );
      expect(requested).toMatchObject({
        status: 'pending',
        requester: 'U01ALICE',
        approvers: ['U01BOB'],
      });
      return requested.requestId as string;
    });

    const refused = await sb('approve', requestId, '--as', 'U01ALICE');
    expect(refused.code).toBe(3);
    const approved = await sb('approve', requestId, '--as', 'U01BOB', '--json');
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout).result.request.status).toBe('done');

    await withStdio(['--as', 'U01ALICE'], async (client) => {
      const followed = structured(
        await client.callTool({ name: 'get_request', arguments: { id: requestId } }),
      );
      expect(followed).toMatchObject({ status: 'done', decidedBy: 'U01BOB' });
      const mine = structured(await client.callTool({ name: 'list_numbers', arguments: {} }));
      expect(mine.count).toBe(1);
    });
    const audit = await sb('audit', '--json', '--limit', '20');
    const events = JSON.parse(audit.stdout).result.events as Array<{
      surface: string;
      command: string;
      actor: string;
    }>;
    const mcp = events.filter((e) => e.surface === 'mcp');
    expect(mcp.map((e) => e.command).sort()).toEqual(['buy', 'list', 'request']);
    expect(mcp.every((e) => e.actor === 'U01ALICE')).toBe(true);
  });

  it('without --as it is the local operator: an admin (may sync), never an approver', async () => {
    await withStdio([], async (client) => {
      const synced = await client.callTool({ name: 'sync_numbers', arguments: {} });
      expect(synced.isError).toBeFalsy();
      expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('approve');
    });
  });
});

describe('switchboard token', SLOW, () => {
  it('create prints the token once; list never shows it; only admins; revoke', async () => {
    const created = await sb('token', 'create', '--name', 'claude-desktop', '--role', 'requester');
    expect(created.code, created.stderr).toBe(0);
    const token = /sbt_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0] as string;
    expect(token).toBeDefined();
    expect(created.stdout).toMatch(/shown only this once/);

    const list = await sb('token', 'list');
    expect(list.stdout).toMatch(/claude-desktop\s+requester/);
    expect(list.stdout).not.toContain(token);

    const notAdmin = await sb(
      'token',
      'create',
      '--name',
      'x',
      '--role',
      'reader',
      '--as',
      'U01ALICE',
    );
    expect(notAdmin.code).toBe(3);
    expect(notAdmin.stderr).toMatch(/Only admins/);
    const asAdmin = await sb(
      'token',
      'create',
      '--name',
      'y',
      '--role',
      'reader',
      '--as',
      'U01ADMIN',
    );
    expect(asAdmin.code).toBe(0);
    const badRole = await sb('token', 'create', '--name', 'z', '--role', 'approver');
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/role/);

    expect((await sb('token', 'revoke', 'claude-desktop')).stdout).toMatch(/Revoked/);
    expect((await sb('token', 'list')).stdout).toMatch(/claude-desktop.*revoked/);
    const audit = await sb('audit', '--json', '--limit', '20');
    expect(audit.stdout).not.toContain(token);
    expect(audit.stdout).toContain('token create');
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('MCP over HTTP through switchboard serve', SLOW, () => {
  let serve: ChildProcess | undefined;
  afterEach(async () => {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((resolve) => serve?.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    }
    serve = undefined;
  });

  it('answers with a token, 401 without, 403 for a foreign Host', async () => {
    const created = await sb('token', 'create', '--name', 'claude', '--role', 'reader');
    const token = /sbt_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0] as string;
    const port = await freePort();
    serve = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    serve.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    serve.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    await expect.poll(() => out, { timeout: 30_000 }).toMatch(/listening on/);
    const url = new URL(`http://127.0.0.1:${port}/mcp`);

    const client = new Client({ name: 'serve-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      'get_request',
      'list_agents',
      'list_numbers',
      'search_numbers',
    ]);
    const claim = await client.callTool({
      name: 'claim_number',
      arguments: { number: '+14155550100' },
    });
    expect(claim.isError).toBe(true);
    await client.close();

    const init = {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{}',
    };
    expect((await fetch(url, init)).status).toBe(401);
    const foreign = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/mcp',
          method: 'POST',
          headers: { host: 'evil.example' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(foreign).toBe(403);
  });
});
