/**
 * `switchboard serve` (also `npm start`): Slack, MCP over HTTP and a health check in one process,
 * on HOST:PORT (default 127.0.0.1:3000). Logs go to stderr through pino with secrets redacted; the
 * few lines a person reads at start go to stdout. SIGTERM and SIGINT shut it down cleanly.
 */
import type { App } from '../app.js';
import type { ExtraCommand } from '../cli/extra-command.js';
import { loadConfig, secretValues } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { CoreError } from '../core/errors.js';
import { EVENTS_PATH } from '../slack/registry.js';
import type { RunningServer } from './server.js';

export function startupLines(running: RunningServer, storeLabel: string): string[] {
  const lines = [
    `Switchboard is listening on ${running.url}`,
    `  health  GET ${running.url}/healthz`,
    `  mcp     ${running.url}/mcp`,
    `  store   ${storeLabel}`,
  ];
  switch (running.slackMode) {
    case 'http':
      lines.push(
        `  slack   HTTP mode: Slack posts to ${running.url}${EVENTS_PATH} (your public URL + ${EVENTS_PATH})`,
      );
      break;
    case 'socket':
      lines.push('  slack   Socket Mode: connected to Slack, no public URL needed');
      break;
    case 'off':
      lines.push(
        '  slack   not connected. To connect Slack: create an app from manifest.yml, then set',
        '          SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode, requests at /slack/events)',
        '          or SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode). See README, "Slack".',
      );
  }
  return lines;
}

export const serveCommand: ExtraCommand = async (io, words, options) => {
  if (words.length > 0) {
    throw new CoreError(
      'INVALID_INPUT',
      `serve takes no arguments (got "${words.join(' ')}"). Set HOST and PORT to choose where it listens, e.g. PORT=8080 switchboard serve`,
    );
  }
  const config = loadConfig(io.env);
  const logger = createLogger({
    level: config.env.LOG_LEVEL ?? 'info',
    secrets: secretValues(io.env),
  });
  const { openApp } = await import('../app.js');
  const app: App = await (io.openApp ?? (() => openApp(config)))();
  let running: RunningServer;
  try {
    const { startServer } = await import('./server.js');
    running = await startServer(app, {
      host: config.env.HOST,
      port: config.env.PORT,
      logger,
      env: config.env,
    });
  } catch (error) {
    await app.close();
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new CoreError(
        'UNAVAILABLE',
        `Cannot listen on ${config.env.HOST}:${config.env.PORT} (${code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}). Choose another with PORT=…`,
      );
    }
    throw error;
  }
  logger.info(
    { url: running.url, store: app.storeLabel, slack: running.slackMode },
    'switchboard serve started',
  );
  if (options.json) {
    io.stdout(
      JSON.stringify({
        ok: true,
        command: 'serve',
        result: { url: running.url, slack: running.slackMode, store: app.storeLabel },
      }) + '\n',
    );
  } else {
    io.stdout(startupLines(running, app.storeLabel).join('\n') + '\n');
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'shutting down');
  await running.close();
  await app.close();
  logger.info('stopped');
  return 0;
};
