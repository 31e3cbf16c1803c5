/**
 * The Slack app on Bolt: HTTP mode (signing secret + bot token, requests at /slack/events, handed
 * to Bolt's own HTTPReceiver so signatures, timestamps, body limits and acks are Bolt's) or Socket
 * Mode (app-level token). `SLACK_API_URL` points the Web API client elsewhere (tests, proxies).
 * Bolt is imported here only, and this module only by `serve`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { Env } from '../config/config.js';
import { CoreError } from '../core/errors.js';
import { ApprovalMessages } from './approvals.js';
import type { SlackClient } from './approvals.js';
import { registerListeners } from './listeners.js';
import { rateLimitOf } from '../config/config.js';
import { rateLimiterFor, slowDownMessage } from '../core/rate-limit.js';
import { textMessage } from './views/lists.js';
import { EVENTS_PATH } from './registry.js';

export type SlackMode = 'http' | 'socket' | 'off';

/** Which mode the settings ask for, or what is missing. */
export function slackModeOf(env: Partial<Env>): SlackMode {
  const { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_APP_TOKEN: appToken } = env;
  if (!bot && !secret && !appToken) return 'off';
  if (!bot) {
    throw new CoreError(
      'INVALID_INPUT',
      `${appToken ? 'SLACK_APP_TOKEN' : 'SLACK_SIGNING_SECRET'} is set but SLACK_BOT_TOKEN is not: copy the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page.`,
    );
  }
  if (appToken) {
    if (!appToken.startsWith('xapp-'))
      throw new CoreError(
        'INVALID_INPUT',
        'SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write, from Basic Information > App-Level Tokens.',
      );
    return 'socket';
  }
  if (!secret) {
    throw new CoreError(
      'INVALID_INPUT',
      'SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP mode) nor SLACK_APP_TOKEN (Socket Mode) is: copy the Signing Secret from Basic Information, or create an app-level token for Socket Mode.',
    );
  }
  return 'http';
}

export interface SlackHandle {
  mode: Exclude<SlackMode, 'off'>;
  messages: ApprovalMessages;
  /** HTTP mode: hands a request for /slack/events to Bolt's receiver. */
  handle?: (req: IncomingMessage, res: ServerResponse) => void;
  stop(): Promise<void>;
}

export interface SlackOptions {
  logger: Logger;
  /** Largest request body Bolt reads (bytes); larger ones get 413. */
  bodyLimit: number;
}

/** Bolt's logger interface over pino (secrets are masked by the pino logger itself). */
function boltLogger(logger: Logger, LogLevel: { INFO: string }) {
  let level = LogLevel.INFO;
  const text = (parts: unknown[]) =>
    parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' ');
  return {
    debug: (...m: unknown[]) => logger.debug(text(m)),
    info: (...m: unknown[]) => logger.info(text(m)),
    warn: (...m: unknown[]) => logger.warn(text(m)),
    error: (...m: unknown[]) => logger.error(text(m)),
    setLevel: (l: string) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export async function startSlack(
  app: App,
  env: Partial<Env>,
  options: SlackOptions,
): Promise<SlackHandle | null> {
  const mode = slackModeOf(env);
  if (mode === 'off') return null;
  const bolt = await import('@slack/bolt');
  const logger = options.logger.child({ via: 'slack' });
  const log = boltLogger(logger, bolt.LogLevel) as never;
  const clientOptions = {
    ...(env.SLACK_API_URL
      ? {
          slackApiUrl: env.SLACK_API_URL.endsWith('/')
            ? env.SLACK_API_URL
            : `${env.SLACK_API_URL}/`,
        }
      : {}),
    // A few quick retries, not the Web API client's default of ten over half an hour.
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
  };
  const receiver =
    mode === 'http'
      ? new bolt.HTTPReceiver({
          signingSecret: env.SLACK_SIGNING_SECRET as string,
          endpoints: EVENTS_PATH,
          // Ack first: the HTTP answer goes out when a listener acks, before the work is done.
          processBeforeResponse: false,
          bodyLimit: options.bodyLimit,
          logger: log,
        })
      : new bolt.SocketModeReceiver({
          appToken: env.SLACK_APP_TOKEN as string,
          logger: log,
          installerOptions: { clientOptions },
        });
  const boltApp = new bolt.App({
    token: env.SLACK_BOT_TOKEN as string,
    receiver,
    logger: log,
    clientOptions,
    // No in-memory conversation state: another replica would not have it.
    convoStore: false,
    deferInitialization: true,
  });
  try {
    await boltApp.init(); // auth.test: a wrong token is reported now, not at the first command
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    throw new CoreError(
      'UNAVAILABLE',
      `Slack refused SLACK_BOT_TOKEN (${code ?? (error instanceof Error ? error.message : String(error))}). Copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions and reinstall the app if it was revoked.`,
      { cause: error },
    );
  }
  const messages = new ApprovalMessages(
    app,
    boltApp.client as unknown as SlackClient,
    logger,
    env.SLACK_APPROVAL_CHANNEL,
  );
  // Work goes on after the ack; shutdown waits for it (up to 10 s) before the store closes.
  const inflight = new Set<Promise<unknown>>();
  boltApp.use(async ({ next }) => {
    const work = next();
    inflight.add(work);
    try {
      await work;
    } finally {
      inflight.delete(work);
    }
  });
  // --- Rate limit (issue 8) ---------------------------------------------------------------------
  // Per Slack user: a command, button or modal over the limit is acked with a private "slow down,
  // try again in N s" and does no work (no command runs, nothing is audited). In memory on the
  // embedded store; in the database on PostgreSQL and Supabase, so replicas count together
  // (rateLimiterFor, shared with MCP over HTTP).
  const limits = rateLimitOf(env);
  if (limits) {
    const limiter = rateLimiterFor(app.deps.store, limits, logger);
    boltApp.use(async (args) => {
      const body = args.body as {
        type?: string;
        command?: string;
        user_id?: string;
        user?: { id?: string };
        view?: { state?: { values?: Record<string, unknown> } };
      };
      const user = body.command
        ? body.user_id
        : body.type === 'block_actions' || body.type === 'view_submission'
          ? body.user?.id
          : undefined;
      const decision = user ? await limiter.take(`slack-user:${user}`) : ({ ok: true } as const);
      if (decision.ok) {
        await args.next();
        return;
      }
      const text = `:hourglass: ${slowDownMessage(decision.retryAfterMs)}`;
      logger.warn({ user, retryAfterMs: decision.retryAfterMs }, 'rate limited');
      const { ack, respond } = args as unknown as {
        ack?: (response?: Record<string, unknown>) => Promise<void>;
        respond?: (message: Record<string, unknown>) => Promise<unknown>;
      };
      if (body.command) {
        await ack?.({ response_type: 'ephemeral', text });
      } else if (body.type === 'view_submission') {
        const block = Object.keys(body.view?.state?.values ?? {})[0];
        await ack?.(block ? { response_action: 'errors', errors: { [block]: text } } : undefined);
      } else {
        await ack?.();
        if (respond) await respond({ response_type: 'ephemeral', replace_original: false, text });
        else await messages.dm(user as string, textMessage(text));
      }
    });
  }
  // --- end rate limit ----------------------------------------------------------------------------
  registerListeners(boltApp, { app, messages, logger });
  if (mode === 'socket') await boltApp.start();
  return {
    mode,
    messages,
    ...(mode === 'http'
      ? {
          handle: (req: IncomingMessage, res: ServerResponse) =>
            (receiver as InstanceType<typeof bolt.HTTPReceiver>).requestListener(req, res),
        }
      : {}),
    stop: async () => {
      if (mode === 'socket') await boltApp.stop();
      const timeout = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
      await Promise.race([Promise.allSettled([...inflight]), timeout]);
    },
  };
}
