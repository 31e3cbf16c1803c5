/**
 * MCP over Streamable HTTP, mounted by `switchboard serve` at /mcp (POST, GET and DELETE).
 *
 * Order of checks on every request: Host (and Origin, when a browser sends one) against the
 * allowed lists, 403 otherwise (DNS rebinding); then `Authorization: Bearer <token>` against the
 * store, 401 with WWW-Authenticate when missing, unknown or revoked, so revoking a token cuts off
 * open sessions at their next request. Sessions (the SDK's stateful mode) let the server ask the
 * user to confirm a purchase (elicitation) in the middle of a call; each session belongs to the
 * token that opened it. One token holds at most `maxSessionsPerToken` sessions: opening one more
 * closes that token's least recently used session (never another token's), so a client that
 * re-initialises in a loop cannot pile up servers in memory, and one that restarts is never
 * locked out.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { RateLimiter } from '../core/rate-limit.js';
import { slowDownMessage } from '../core/rate-limit.js';
import { createMcpServer } from './server.js';
import { authenticate, tokenActor } from './tokens.js';

/** Mounted by `switchboard serve` at /mcp (Streamable HTTP). */
export interface McpHttpHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

export interface McpHttpOptions {
  /** Host header values accepted (DNS-rebinding protection), e.g. ["127.0.0.1:3000", "localhost:3000"]. */
  allowedHosts: string[];
  /** Origin header values accepted when a browser sends one; default: http(s):// + an allowed host. */
  allowedOrigins?: string[];
  logger?: Logger;
  /** Sessions idle this long are closed (default 30 minutes). */
  idleSessionMs?: number;
  /**
   * The most sessions one token holds open at once (a whole number, at least 1; default
   * DEFAULT_MAX_SESSIONS_PER_TOKEN). At the cap, a new session closes the token's least recently
   * used one instead of being refused.
   */
  maxSessionsPerToken?: number;
  /**
   * The largest request body read, declared or streamed (default 4 MiB). `serve` passes its own
   * limit for every route (1 MiB), so a chunked body with no length meets the same limit.
   */
  maxBodyBytes?: number;
  /** Per-token rate limit (issue 8); none when absent. */
  rateLimiter?: RateLimiter;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  tokenId: number;
  lastSeen: number;
}

const MAX_BODY = 4 * 1024 * 1024;

/** A byte limit as people read it: "4 MiB", or the bytes when it is not whole mebibytes. */
const bytesText = (bytes: number) =>
  bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${bytes} bytes`;

/**
 * Sessions one token may hold open at once, by default. A token is made for one client set-up (a
 * person's Claude Desktop, an agent runner), and a well-behaved client holds one session at a
 * time; 10 leaves room for a few windows or agents sharing the token, and for the sessions a
 * restarting client leaves behind until the idle timeout (30 minutes) closes them, while a client
 * that initialises in a loop holds 10 servers in memory instead of thousands. Since the cap closes
 * the least recently used session rather than refusing the new one, a cap set too low costs a
 * client its oldest session, never access.
 */
export const DEFAULT_MAX_SESSIONS_PER_TOKEN = 10;

/** What a request on a session this server does not hold (never opened, expired, or closed) gets. */
const SESSION_NOT_FOUND = 'Session not found: start a new session (initialize).';

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A JSON-RPC error body, as MCP clients expect from this endpoint. */
const rpcError = (code: number, message: string) => ({
  jsonrpc: '2.0',
  error: { code, message },
  id: null,
});

/**
 * The request body, or `too-large` past `max` bytes (declared or sent). The request is never
 * destroyed here: the answer (413) goes out whole, and `Connection: close` ends the connection
 * after it, so a client's next request does not land on a half-read one.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        done();
        resolve('too-large');
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => onError(new Error('the client closed the request before its end'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

export async function createMcpHttpHandler(
  app: App,
  options: McpHttpOptions,
): Promise<McpHttpHandler> {
  const hosts = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(
    (options.allowedOrigins ?? [...hosts].flatMap((h) => [`http://${h}`, `https://${h}`])).map(
      (o) => o.toLowerCase(),
    ),
  );
  const log = options.logger?.child({ via: 'mcp-http' });
  const sessions = new Map<string, Session>();
  const idleMs = options.idleSessionMs ?? 30 * 60_000;
  const maxPerToken = options.maxSessionsPerToken ?? DEFAULT_MAX_SESSIONS_PER_TOKEN;
  const maxBody = options.maxBodyBytes ?? MAX_BODY;
  if (!Number.isInteger(maxPerToken) || maxPerToken < 1)
    throw new RangeError(
      `maxSessionsPerToken: must be a whole number, at least 1, not ${String(maxPerToken)}`,
    );

  const sweeper = setInterval(
    () => {
      const cutoff = Date.now() - idleMs;
      for (const [id, session] of sessions)
        if (session.lastSeen < cutoff) void closeSession(id, session);
    },
    Math.min(idleMs, 60_000),
  );
  sweeper.unref();

  async function closeSession(id: string, session: Session): Promise<void> {
    sessions.delete(id);
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  }

  /**
   * Makes room for one more session of `tokenId`: while the token holds `maxPerToken` sessions,
   * closes its least recently used one (smallest lastSeen; `sessions` is kept in order of use, so
   * a tie goes to the one used first). Synchronous up to the close, so two sessions initialised at
   * once cannot both slip under the cap. Only `tokenId`'s sessions are counted or closed.
   */
  function makeRoomFor(tokenId: number, tokenName: string): void {
    for (;;) {
      let held = 0;
      let oldest: [string, Session] | undefined;
      for (const entry of sessions) {
        if (entry[1].tokenId !== tokenId) continue;
        held++;
        if (!oldest || entry[1].lastSeen < oldest[1].lastSeen) oldest = entry;
      }
      if (held < maxPerToken || !oldest) return;
      const [id, session] = oldest;
      log?.warn(
        {
          tokenName,
          sessionId: id,
          idleMs: Date.now() - session.lastSeen,
          maxSessionsPerToken: maxPerToken,
        },
        'MCP session closed: its token opened one more than the session cap',
      );
      void closeSession(id, session); // deletes it from `sessions` before its first await
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(host)) {
      sendJson(res, 403, {
        error: `Host "${req.headers.host ?? ''}" is not allowed here (DNS-rebinding protection). Address the server as one of: ${[...hosts].join(', ')}.`,
      });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      sendJson(res, 403, {
        error: `Origin "${origin}" is not allowed to call this MCP server. Allowed: ${[...origins].join(', ')}.`,
      });
      return;
    }

    const auth = await authenticate(
      app.deps.store,
      req.headers.authorization,
      app.deps.clock.now(),
    );
    if (!auth.ok) {
      const challenge =
        auth.error === 'missing'
          ? 'Bearer realm="switchboard"'
          : `Bearer realm="switchboard", error="invalid_token", error_description="unknown or revoked token"`;
      sendJson(res, 401, { error: auth.message }, { 'www-authenticate': challenge });
      return;
    }
    const token = auth.token;

    // --- Rate limit (issue 8): per member, before any work. A token acts for its owner (migration
    // 015), so all of one member's tokens share one budget: a second token is not a second
    // allowance. 429 + Retry-After is what HTTP clients and gateways understand for every MCP
    // method; the body is a JSON-RPC error that says how long to wait.
    // The shared limiter (PostgreSQL, Supabase) asks the database: awaited either way.
    const limited = await options.rateLimiter?.take(`mcp-member:${token.owner}`);
    if (limited && !limited.ok) {
      const seconds = Math.max(1, Math.ceil(limited.retryAfterMs / 1000));
      log?.warn({ tokenName: token.name, retryAfterMs: limited.retryAfterMs }, 'rate limited');
      sendJson(res, 429, rpcError(-32000, slowDownMessage(limited.retryAfterMs)), {
        'retry-after': String(seconds),
      });
      return;
    }
    // --- end rate limit

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) {
        sendJson(res, 404, rpcError(-32001, SESSION_NOT_FOUND));
        return;
      }
      if (session.tokenId !== token.id) {
        sendJson(res, 403, rpcError(-32001, 'This session was opened with another token.'));
        return;
      }
      session.lastSeen = Date.now();
      // Moved to the end: `sessions` stays in order of use, least recent first (see makeRoomFor).
      sessions.delete(sessionId);
      sessions.set(sessionId, session);
      await session.transport.handleRequest(req, res);
      return;
    }

    if (req.method !== 'POST') {
      sendJson(
        res,
        400,
        rpcError(
          -32000,
          'Send an initialize request (POST) first; other requests need the Mcp-Session-Id it returns.',
        ),
      );
      return;
    }
    let raw: Buffer | 'too-large';
    try {
      raw = await readBody(req, maxBody);
    } catch {
      return; // the client went away mid-body: nobody to answer
    }
    if (raw === 'too-large') {
      sendJson(
        res,
        413,
        rpcError(
          -32600,
          `The request body is over ${bytesText(maxBody)}, the most this server reads.`,
        ),
        { connection: 'close' },
      );
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      sendJson(res, 400, rpcError(-32700, 'Parse error: the body is not valid JSON.'));
      return;
    }
    if (!isInitializeRequest(body)) {
      sendJson(
        res,
        400,
        rpcError(
          -32000,
          'No Mcp-Session-Id header: send an initialize request first to open a session.',
        ),
      );
      return;
    }
    const server = createMcpServer(
      app.deps,
      {
        actor: tokenActor(token),
        role: token.role,
      },
      options.logger ? { logger: options.logger } : {},
    );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        makeRoomFor(token.id, token.name);
        sessions.set(id, { transport, server, tokenId: token.id, lastSeen: Date.now() });
        log?.info({ tokenName: token.name, role: token.role, sessionId: id }, 'MCP session opened');
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.get(id)?.transport === transport) sessions.delete(id);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  return {
    handle,
    async close() {
      clearInterval(sweeper);
      await Promise.all([...sessions].map(([id, session]) => closeSession(id, session)));
    },
  };
}
