import type { ExtraCommand } from '../cli/extra-command.js';

/** `switchboard token create|list|revoke`: bearer tokens for MCP over HTTP (issue 6). */
export const tokenCommand: ExtraCommand = async (io) => {
  io.stderr('error: switchboard token is not built yet (issue 6).\n');
  return 1;
};
