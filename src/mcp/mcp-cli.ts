import type { ExtraCommand } from '../cli/extra-command.js';

/** `switchboard mcp`: the MCP tool server over stdio (issue 6). */
export const mcpCommand: ExtraCommand = async (io) => {
  io.stderr('error: switchboard mcp is not built yet (issue 6).\n');
  return 1;
};
