/**
 * The cap on the MCP sessions one token holds open over Streamable HTTP: createMcpHttpHandler on a
 * local node:http server (as `switchboard serve` mounts it), the SDK's own Client and
 * StreamableHTTPClientTransport, a PGlite store. At the cap, a new session closes that token's
 * least recently used one, which is then answered as any unknown session is; other tokens' sessions
 * are never touched.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { capturedLogger } from '../helpers/logs.js';
import type { McpHttpOptions } from '../../src/mcp/http.js';
import { createMcpHttpHandler, DEFAULT_MAX_SESSIONS_PER_TOKEN } from '../../src/mcp/http.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { makeDeps } from '../helpers/deps.js';
import { listenLocal } from '../helpers/local-http.js';
import { startMcpHttpServer } from '../helpers/mcp-http-server.js';
import { postMcp } from '../helpers/mcp-raw.js';
import { makeMcpToken } from '../helpers/mcp-token.js';
import { freshPglite } from '../helpers/stores.js';

let store: SqlStore;
let app: App;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  store = await freshPglite();
  app = {
    config: loadConfig({}),
    deps: makeDeps(store),
    storeLabel: 'test',
    close: async () => {},
  } as App;
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await store.close();
});

interface Served {
  url: string;
  /** A new SDK client (so a new session) connected with `token`. */
  open(token: string): Promise<Client>;
  /** The JSON lines logged at info and above. */
  logged(): Array<Record<string, unknown>>;
}

/** The handler with `options` (and a logger) on a local server; closed after the test. */
async function serve(options: Partial<McpHttpOptions> = {}): Promise<Served> {
  const { logger, records } = capturedLogger({ level: 'info' });
  const server = createServer();
  const listening = await listenLocal(server);
  const handler = await createMcpHttpHandler(app, {
    allowedHosts: [new URL(listening.url).host],
    logger,
    ...options,
  });
  server.on('request', (req, res) => void handler.handle(req, res));
  const clients: Client[] = [];
  cleanups.push(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await handler.close();
    await listening.close();
  });
  return {
    url: listening.url,
    async open(token) {
      const client = new Client({ name: 'session-cap-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${listening.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    logged: records,
  };
}

const sessionOf = (client: Client): string =>
  (client.transport as StreamableHTTPClientTransport).sessionId as string;

const LIST_TOOLS = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };

/** Resolves when a tool call on the client's session is answered (it throws otherwise). */
async function works(client: Client): Promise<void> {
  const result = await client.callTool({ name: 'list_numbers', arguments: {} });
  expect(result.isError, sessionOf(client)).toBeFalsy();
}

/**
 * Expects the client's session to be gone: its next call fails with the message that says to
 * initialise again, and a raw request on it gets exactly what a never-opened session id gets.
 */
async function expectClosed(url: string, token: string, client: Client): Promise<void> {
  await expect(client.callTool({ name: 'list_numbers', arguments: {} })).rejects.toThrow(
    'Session not found: start a new session (initialize).',
  );
  const closed = await postMcp(url, token, LIST_TOOLS, sessionOf(client));
  const unknown = await postMcp(url, token, LIST_TOOLS, randomUUID());
  expect(closed.status).toBe(404);
  expect({ status: closed.status, body: await closed.text() }).toEqual({
    status: unknown.status,
    body: await unknown.text(),
  });
}

describe('MCP over Streamable HTTP: sessions per token', () => {
  it('at the cap, a new session closes the least recently used one; the newer ones still work', async () => {
    const served = await serve({ maxSessionsPerToken: 2 });
    const token = await makeMcpToken(store, 'looping-agent', 'requester');
    const first = await served.open(token);
    const second = await served.open(token);
    // The first was opened first but used last: the second is now the least recently used.
    await works(second);
    await works(first);
    const third = await served.open(token);

    await expectClosed(served.url, token, second);
    await works(first);
    await works(third);
    expect(new Set([sessionOf(first), sessionOf(second), sessionOf(third)]).size).toBe(3);

    // The log names the token (its name, never the secret) and the session it closed.
    const logged = served.logged();
    const closedLines = logged.filter(
      (line) => line.msg === 'MCP session closed: its token opened one more than the session cap',
    );
    expect(closedLines).toEqual([
      expect.objectContaining({
        level: 40,
        tokenName: 'looping-agent',
        sessionId: sessionOf(second),
        maxSessionsPerToken: 2,
      }),
    ]);
    expect(
      logged.filter((line) => line.msg === 'MCP session opened').map((line) => line.sessionId),
    ).toEqual([sessionOf(first), sessionOf(second), sessionOf(third)]);
    expect(JSON.stringify(logged)).not.toContain(token);
    expect(JSON.stringify(logged)).not.toContain('[redacted]');
  });

  it('a client that keeps re-initialising only ever pushes out its own oldest sessions', async () => {
    const served = await serve({ maxSessionsPerToken: 2 });
    const token = await makeMcpToken(store, 'restarting-agent', 'requester');
    const opened: Client[] = [];
    for (let i = 0; i < 5; i++) opened.push(await served.open(token));
    for (const client of opened.slice(0, 3)) await expectClosed(served.url, token, client);
    for (const client of opened.slice(3)) await works(client);
  });

  it("another token's sessions are neither counted nor closed", async () => {
    const served = await serve({ maxSessionsPerToken: 2 });
    const quiet = await makeMcpToken(store, 'quiet', 'reader');
    const noisy = await makeMcpToken(store, 'noisy', 'requester');
    const quietSessions = [await served.open(quiet), await served.open(quiet)];
    const noisySessions = [await served.open(noisy), await served.open(noisy)];
    // Both tokens at the cap: four sessions, all open (one token's do not count toward another's).
    for (const client of [...quietSessions, ...noisySessions]) await works(client);

    // The quiet token's sessions are now the least recently used on the server, yet stay open.
    noisySessions.push(await served.open(noisy), await served.open(noisy));
    for (const client of quietSessions) await works(client);
    for (const client of noisySessions.slice(0, 2)) await expectClosed(served.url, noisy, client);
    for (const client of noisySessions.slice(2)) await works(client);
    expect(
      served
        .logged()
        .filter(
          (line) =>
            line.msg === 'MCP session closed: its token opened one more than the session cap',
        )
        .map((line) => line.tokenName),
    ).toEqual(['noisy', 'noisy']);
  });

  it(`without the option, a token holds ${DEFAULT_MAX_SESSIONS_PER_TOKEN} sessions`, async () => {
    expect(DEFAULT_MAX_SESSIONS_PER_TOKEN).toBe(10); // the README states this number
    // startMcpHttpServer passes no maxSessionsPerToken: the default applies.
    const mcp = await startMcpHttpServer(app);
    cleanups.push(() => mcp.close());
    const token = await makeMcpToken(store, 'claude', 'requester');
    const opened: Client[] = [];
    for (let i = 0; i < DEFAULT_MAX_SESSIONS_PER_TOKEN; i++)
      opened.push(await mcp.connect(token, `client-${i}`));
    for (const client of opened) await works(client); // all at once, none closed
    // The first is now again the least recently used: the next session closes it, and only it.
    const oneMore = await mcp.connect(token, 'one-more');
    await expectClosed(mcp.url, token, opened[0]!);
    for (const client of [...opened.slice(1), oneMore]) await works(client);
  });

  it('refuses a cap that is not a whole number of at least 1', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(
        createMcpHttpHandler(app, { allowedHosts: ['127.0.0.1:1'], maxSessionsPerToken: bad }),
        String(bad),
      ).rejects.toThrow(/maxSessionsPerToken: must be a whole number, at least 1/);
    }
  });
});
