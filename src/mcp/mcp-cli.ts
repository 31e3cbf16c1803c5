/**
 * `switchboard mcp`: the MCP tools over stdio, for an AI assistant that starts Switchboard itself
 * (Claude Desktop, Claude Code, Cursor). stdout is the protocol: logs go to stderr only.
 *
 * Identity: `--as <member id>` (or SWITCHBOARD_AS) acts as that member; without it, the local
 * operator, an admin as in the CLI (whoever can start this can already open the database), but
 * never an approver: no MCP identity can approve, and approve/deny are not tools.
 */
import type { App } from '../app.js';
import type { ExtraCommand } from '../cli/extra-command.js';
import { CoreError } from '../core/errors.js';
import type { Actor } from '../core/types.js';
import { loadConfig, secretValues } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { createMcpServer } from './server.js';

export function stdioActor(as: string | undefined): Actor {
  if (as === undefined)
    return { id: 'local', surface: 'mcp', displayName: 'local operator', extraRoles: ['admin'] };
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(as))
    throw new CoreError(
      'INVALID_INPUT',
      `"${as}" is not a member id. Use a Slack user id such as U01ALICE.`,
    );
  return { id: as, surface: 'mcp' };
}

export const mcpCommand: ExtraCommand = async (io, words, options) => {
  if (words.length > 0) {
    io.stderr(
      `error: switchboard mcp takes no arguments (got "${words.join(' ')}"). Usage: switchboard mcp [--as <member id>]\n`,
    );
    return 2;
  }
  const actor = stdioActor(options.as);
  const config = loadConfig(io.env);
  const logger = createLogger({
    level: config.env.LOG_LEVEL ?? 'info',
    destination: 2,
    secrets: secretValues(io.env),
  });
  let app: App;
  if (io.openApp) app = await io.openApp();
  else {
    const { openApp } = await import('../app.js');
    app = await openApp(config);
  }
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const server = createMcpServer(app.deps, { actor, role: 'requester' }, { logger });
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
  });
  // The client ends the session by closing our stdin (or by a signal): close, then let go of the store.
  const stop = () => void server.close();
  process.stdin.once('end', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await server.connect(new StdioServerTransport());
  logger.info({ actor: actor.id, store: app.storeLabel }, 'switchboard MCP server ready on stdio');
  try {
    await closed;
  } finally {
    process.stdin.off('end', stop);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await app.close();
    logger.info('switchboard MCP server stopped');
  }
  return 0;
};
