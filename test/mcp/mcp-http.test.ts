/**
 * MCP over Streamable HTTP: the SDK's StreamableHTTPClientTransport against createMcpHttpHandler
 * mounted on a small local node:http server (as `switchboard serve` mounts it), on a PGlite store.
 */
import { createServer, request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { capturedLogger } from '../helpers/logs.js';
import { runCommand } from '../../src/core/command.js';
import { approve } from '../../src/core/commands/index.js';
import type { ApiTokenRole } from '../../src/core/ports.js';
import { createMcpHttpHandler } from '../../src/mcp/http.js';
import { generateToken } from '../../src/mcp/tokens.js';
import { DESIGN_TOOL_NAMES, EXTRA_TOOL_NAMES } from '../../src/mcp/tools.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { BOB, makeDeps } from '../helpers/deps.js';
import { listenLocal } from '../helpers/local-http.js';
import type { TestDeps } from '../helpers/deps.js';
import { startMcpHttpServer } from '../helpers/mcp-http-server.js';
import type { McpHttpServer } from '../helpers/mcp-http-server.js';
import { mcpInitialize } from '../helpers/mcp-raw.js';
import { makeMcpToken } from '../helpers/mcp-token.js';
import { freshPglite } from '../helpers/stores.js';
import { textOf } from './helpers.js';

let store: SqlStore;
let deps: TestDeps;
let mcp: McpHttpServer;
let base: string;

beforeEach(async () => {
  store = await freshPglite();
  deps = makeDeps(store);
  const app = { config: loadConfig({}), deps, storeLabel: 'test', close: async () => {} } as App;
  mcp = await startMcpHttpServer(app);
  base = mcp.url;
});
afterEach(async () => {
  await mcp.close();
  await store.close();
});

const makeToken = (name: string, role: ApiTokenRole) => makeMcpToken(store, name, role);

const connect = (
  token: string,
  capabilities: ClientCapabilities = {},
  setup?: (client: Client) => void,
): Promise<Client> => mcp.connect(token, 'switchboard-http-test', capabilities, setup);

const INITIALIZE = JSON.stringify(mcpInitialize('raw'));

/** A raw POST, with whatever Host and headers the test wants (fetch cannot set Host). */
function rawPost(
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(`${base}/mcp`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: '/mcp',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(INITIALIZE);
  });
}

const structured = (result: unknown) =>
  (result as CallToolResult).structuredContent as Record<string, unknown>;

describe('MCP over Streamable HTTP: who may connect', () => {
  it('no token: 401 with a WWW-Authenticate challenge and a message that names the fix', async () => {
    const res = await rawPost({});
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="switchboard"');
    expect(JSON.parse(res.body).error).toMatch(/switchboard token create/);
    await expect(
      new Client({ name: 't', version: '1' }).connect(
        new StreamableHTTPClientTransport(new URL(`${base}/mcp`)),
      ),
    ).rejects.toThrow();
  });

  it('a bad token: 401 invalid_token', async () => {
    for (const bad of ['sbt_not-a-real-token', generateToken(), 'xoxb-test-not-a-real-token']) {
      const res = await rawPost({ authorization: `Bearer ${bad}` });
      expect(res.status, bad).toBe(401);
      expect(String(res.headers['www-authenticate'])).toContain('error="invalid_token"');
    }
    await expect(connect(generateToken())).rejects.toThrow();
  });

  it('a revoked token: 401, even for a session it opened before', async () => {
    const token = await makeToken('claude', 'requester');
    const client = await connect(token);
    expect((await client.callTool({ name: 'list_numbers', arguments: {} })).isError).toBeFalsy();
    expect((await store.revokeApiToken('claude', new Date())).status).toBe('revoked');
    await expect(client.callTool({ name: 'list_numbers', arguments: {} })).rejects.toThrow(
      /revoked/,
    );
    expect((await rawPost({ authorization: `Bearer ${token}` })).status).toBe(401);
  });

  it('a foreign Host header is refused with 403, token or not; so is a foreign Origin', async () => {
    const token = await makeToken('claude', 'requester');
    const foreign: Array<Record<string, string>> = [
      { host: 'evil.example', authorization: `Bearer ${token}` },
      { host: 'evil.example' },
      { host: `localhost.evil.example:${new URL(base).port}`, authorization: `Bearer ${token}` },
    ];
    for (const headers of foreign) {
      const res = await rawPost(headers);
      expect(res.status, headers.host).toBe(403);
      expect(JSON.parse(res.body).error).toMatch(/not allowed here.*Address the server as/);
    }
    const origin = await rawPost({
      origin: 'https://evil.example',
      authorization: `Bearer ${token}`,
    });
    expect(origin.status).toBe(403);
    const ok = await rawPost({ origin: base, authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
  });

  it('records when a token was last used, never the token', async () => {
    const token = await makeToken('claude', 'reader');
    await connect(token);
    const [listed] = await store.listApiTokens();
    expect(listed?.lastUsedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(JSON.stringify(await store.listAudit({ limit: 50 }))).not.toContain(token);
  });
});

describe('MCP over Streamable HTTP: the opening request body', () => {
  const headers = (token: string) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  });

  /** An initialize POST sent in chunks, with no Content-Length (so the size is only known late). */
  function chunkedPost(token: string, total: number): Promise<{ status: number; body: string }> {
    const url = new URL(`${base}/mcp`);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: '/mcp',
          method: 'POST',
          headers: headers(token),
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      // The server may answer and close before the whole body is sent: that is its right.
      req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent < total; sent += chunk.length) req.write(chunk);
      req.end();
    });
  }

  it('over 4 MiB: 413 that says so (declared or streamed), and the next request is answered', async () => {
    const token = await makeToken('claude', 'requester');
    const declared = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: headers(token),
      body: ' '.repeat(5 * 1024 * 1024),
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { message: string } }).error.message).toMatch(
      /over 4 MiB/,
    );
    // The same client's next requests get answers, not a reset connection.
    for (let i = 0; i < 3; i++) {
      const next = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: headers(token),
        body: INITIALIZE,
      });
      expect(next.status).toBe(200);
      await next.text();
    }

    const streamed = await chunkedPost(token, 5 * 1024 * 1024);
    expect(streamed.status).toBe(413);
    expect(streamed.body).toMatch(/over 4 MiB/);
    expect((await rawPost({ authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('a body that is not JSON: 400 parse error, which does not blame the size', async () => {
    const token = await makeToken('claude', 'requester');
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: headers(token),
      body: '{"jsonrpc": "2.0", "method": "initialize"',
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: number; message: string } };
    expect(error.code).toBe(-32700);
    expect(error.message).toBe('Parse error: the body is not valid JSON.');
  });
});

describe('MCP over Streamable HTTP: the log', () => {
  it('names the token that opened a session (its name is no secret), never the token itself', async () => {
    const { logger, lines, records } = capturedLogger({ level: 'info' });
    const app = { config: loadConfig({}), deps, storeLabel: 'test', close: async () => {} } as App;
    const server = createServer();
    const listening = await listenLocal(server);
    const handler = await createMcpHttpHandler(app, {
      allowedHosts: [new URL(listening.url).host],
      logger,
    });
    server.on('request', (req, res) => void handler.handle(req, res));
    try {
      const token = await makeToken('alice-claude', 'requester');
      const client = new Client({ name: 'logged', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${listening.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      await client.callTool({ name: 'list_numbers', arguments: {} });
      await client.close();
      const opened = records().find((line) => line.msg === 'MCP session opened');
      // The logger censors any key named token: the name goes under another key, or is lost.
      expect(opened).toMatchObject({ tokenName: 'alice-claude', role: 'requester' });
      expect(JSON.stringify(opened)).not.toContain('[redacted]');
      expect(lines.join('')).not.toContain(token);
    } finally {
      await handler.close();
      await listening.close();
    }
  });
});

describe('MCP over Streamable HTTP: tools by role', () => {
  it('a requester sees every tool but sync_numbers and acts as mcp:<token name>; its purchase waits for a human', async () => {
    const client = await connect(await makeToken('claude', 'requester'));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['request_purchase', 'claim_number', 'unclaim_number']),
    );
    // A token is no admin, whoever owns it: the admins' tool is not offered.
    expect(names).not.toContain('sync_numbers');
    expect(names).toHaveLength(DESIGN_TOOL_NAMES.length + EXTRA_TOOL_NAMES.length - 1);
    const requested = structured(
      await client.callTool({
        name: 'request_purchase',
        arguments: { target: '415', reason: 'Support' },
      }),
    );
    expect(requested).toMatchObject({
      status: 'pending',
      requester: 'mcp:claude',
      approvers: ['U01BOB'],
    });
    const id = requested.requestId as string;
    expect(
      structured(await client.callTool({ name: 'get_request', arguments: { id } })).status,
    ).toBe('pending');
    await runCommand(deps, approve, BOB, { id });
    expect(
      structured(await client.callTool({ name: 'get_request', arguments: { id } })).status,
    ).toBe('done');
    const [event] = await store.listAudit({ actor: 'mcp:claude', limit: 1 });
    expect(event).toMatchObject({ surface: 'mcp', command: 'request', outcome: 'ok' });
  });

  it('a reader sees only the read tools and is refused the write tools', async () => {
    const client = await connect(await makeToken('dashboard', 'reader'));
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([
      'get_request',
      'list_agents',
      'list_numbers',
      'search_numbers',
    ]);
    for (const name of [
      'request_purchase',
      'claim_number',
      'unclaim_number',
      'release_number',
      'link_number',
    ]) {
      const result = await client.callTool({
        name,
        arguments: { target: '415', number: '+14155550100' },
      });
      expect(result.isError, name).toBe(true);
      expect(textOf(result)).toMatch(/reader token/);
    }
    expect(await store.listRequests({})).toEqual([]);
    const listed = await client.callTool({ name: 'list_numbers', arguments: { scope: 'all' } });
    expect(listed.isError).toBeFalsy();
  });

  it('asks the user to confirm a purchase over HTTP too (elicitation in a session)', async () => {
    const asked: string[] = [];
    const client = await connect(
      await makeToken('claude', 'requester'),
      { elicitation: { form: {} } },
      (c) =>
        c.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked.push(request.params.message);
          return { action: 'decline' };
        }),
    );
    const result = await client.callTool({
      name: 'request_purchase',
      arguments: { target: '415' },
    });
    expect(asked).toHaveLength(1);
    expect(structured(result).status).toBe('declined');
    expect(await store.listRequests({})).toEqual([]);
  });

  it('a session belongs to the token that opened it', async () => {
    const first = await makeToken('claude', 'requester');
    const second = await makeToken('other', 'requester');
    const client = await connect(first);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId as string;
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${second}`,
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(403);
  });
});
