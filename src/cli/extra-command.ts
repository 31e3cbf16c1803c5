import type { CliIo } from './main.js';

/** Options the CLI has already taken off the command line, for commands outside the core. */
export interface ExtraCommandOptions {
  json: boolean;
  /** `--as <member id>` (or SWITCHBOARD_AS), when given. */
  as: string | undefined;
}

/**
 * A command that is not a core command (serve, mcp, token): it owns its process for as long as it
 * runs and returns the exit code.
 */
export type ExtraCommand = (
  io: CliIo,
  words: string[],
  options: ExtraCommandOptions,
) => Promise<number>;
