import type { ExtraCommand } from '../cli/extra-command.js';

/** `switchboard serve`: Slack, MCP over HTTP and a health check in one process (issue 5). */
export const serveCommand: ExtraCommand = async (io) => {
  io.stderr('error: switchboard serve is not built yet (issue 5).\n');
  return 1;
};
