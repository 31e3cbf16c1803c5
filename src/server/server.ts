/**
 * `switchboard serve` in one Node HTTP server: GET /healthz, Slack at /slack/events (Bolt's
 * HTTPReceiver, or Socket Mode with no route at all) and MCP over HTTP at /mcp. One process, one
 * port; bodies over the limit get 413 before anyone reads them.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { Env } from '../config/config.js';
import type { Store } from '../core/ports.js';
import { rateLimitOf } from '../config/config.js';
import { rateBucketIdleMs, rateLimiterFor, sharesRateLimits } from '../core/rate-limit.js';
import type { RateLimiter } from '../core/rate-limit.js';
import type { McpHttpHandler } from '../mcp/http.js';
import type { SlackHandle, SlackMode } from '../slack/slack-app.js';
import { slackModeOf } from '../slack/slack-app.js';
import { EVENTS_PATH } from '../slack/registry.js';
import { startJobs } from './jobs.js';
import type { Jobs } from './jobs.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface ServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger: Logger;
  /** Slack settings; defaults to the app's configuration. */
  env?: Partial<Env>;
  bodyLimit?: number;
  /** Background jobs; false turns them off (tests drive them by hand). */
  jobs?:
    | false
    | { expiryIntervalMs?: number; reconcileIntervalMs?: number; rateForgetIntervalMs?: number };
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  slackMode: SlackMode;
  slack: SlackHandle | null;
  jobs: Jobs | null;
  server: Server;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Host header values the MCP endpoint accepts (DNS-rebinding protection): this address, loopback,
 * and the public URL `serve` is reached at behind a proxy (SWITCHBOARD_PUBLIC_URL), if set.
 */
export function allowedHostsFor(host: string, port: number, publicUrl?: string): string[] {
  const hosts = new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]);
  if (host === '0.0.0.0' || host === '::') hosts.add(`[::1]:${port}`);
  if (publicUrl) hosts.add(new URL(publicUrl).host);
  return [...hosts];
}

export async function startServer(app: App, options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger;
  const env = options.env ?? app.config.env;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const slackMode = slackModeOf(env);

  let slack: SlackHandle | null = null;
  if (slackMode !== 'off') {
    const { startSlack } = await import('../slack/slack-app.js');
    slack = await startSlack(app, env, { logger, bodyLimit });
  }

  let mcp: McpHttpHandler | null = null;
  let mcpPromise: Promise<McpHttpHandler> | null = null;
  const server = createServer();
  const health = () => ({
    ok: true,
    store: app.storeLabel,
    carriers: Object.values(app.deps.carriers).map((c) => ({ name: c?.name, sandbox: c?.sandbox })),
    agents: Object.values(app.deps.agents).map((a) => ({
      platform: a?.platform,
      sandbox: a?.sandbox,
    })),
    slack: slackMode,
    mcp: '/mcp',
  });

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const length = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(length) && length > bodyLimit) {
      res.setHeader('connection', 'close');
      sendJson(res, 413, { error: `Request body over ${bodyLimit} bytes.` });
      req.resume();
      return;
    }
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, health());
      return;
    }
    if (path === EVENTS_PATH) {
      if (slack?.handle) {
        slack.handle(req, res);
        return;
      }
      sendJson(res, 404, {
        error:
          slackMode === 'socket'
            ? 'This server talks to Slack over Socket Mode; it takes no Slack requests over HTTP.'
            : 'Slack is not configured here: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode).',
      });
      return;
    }
    if (path === '/mcp') {
      mcpPromise ??= import('../mcp/http.js').then(({ createMcpHttpHandler }) =>
        createMcpHttpHandler(app, {
          allowedHosts: allowedHostsFor(options.host, port, env.SWITCHBOARD_PUBLIC_URL),
          logger,
          maxBodyBytes: bodyLimit,
          ...mcpRateLimit(app.deps.store, env, logger), // issue 8; shared on PostgreSQL (020)
        }),
      );
      mcp = await mcpPromise;
      await mcp.handle(req, res);
      return;
    }
    sendJson(res, 404, { error: `No route ${req.method} ${path}. Try GET /healthz.` });
  };

  server.on('request', (req, res) => {
    route(req, res).catch((error: unknown) => {
      logger.error({ err: error, path: req.url }, 'request failed');
      if (!res.headersSent)
        sendJson(res, 500, { error: 'Something went wrong inside Switchboard.' });
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  const jobs =
    options.jobs === false
      ? null
      : startJobs(app, {
          logger,
          ...rateBucketCleanup(app.deps.store, env), // shared rate limits (020)
          ...options.jobs,
          ...(slack
            ? {
                refreshMessages: () => (slack as SlackHandle).messages.refreshStale(),
                // Requests made in the CLI or over MCP reach the approvers in Slack too; and a
                // Slack member hears how a request ended that no approval message could carry.
                announceRequests: async () => {
                  const posted = await (slack as SlackHandle).messages.announcePending();
                  await (slack as SlackHandle).messages.noticeOutcomes();
                  return posted;
                },
              }
            : {}),
        });

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    host: options.host,
    port,
    slackMode,
    slack,
    jobs,
    server,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        });
        await jobs?.stop();
        await slack?.stop();
        if (mcpPromise) await (await mcpPromise).close();
      })()),
  };
}

// --- Rate limit (issue 8) ------------------------------------------------------------------------

/**
 * The per-member limiter for MCP over HTTP, from SWITCHBOARD_RATE_LIMIT_* (none when turned off):
 * in memory on the embedded store, shared through the database on PostgreSQL and Supabase
 * (rateLimiterFor, the same choice as Slack's).
 */
function mcpRateLimit(
  store: Store,
  env: Partial<Env>,
  logger: Logger,
): { rateLimiter?: RateLimiter } {
  const limits = rateLimitOf(env);
  return limits
    ? { rateLimiter: rateLimiterFor(store, limits, logger.child({ via: 'mcp-http' })) }
    : {};
}

/**
 * The job that forgets idle shared buckets (switchboard.rate_forget), when limits are shared
 * through the database; none otherwise (the in-memory limiter bounds its own size).
 */
function rateBucketCleanup(
  store: Store,
  env: Partial<Env>,
): { forgetRateBuckets?: () => Promise<number> } {
  const limits = rateLimitOf(env);
  if (!limits || !sharesRateLimits(store)) return {};
  const idleMs = rateBucketIdleMs(limits);
  return { forgetRateBuckets: () => store.rateForget(idleMs) };
}
