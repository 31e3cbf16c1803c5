/** The CLI's main() run in process on a test app, its output captured. */
import type { App } from '../../src/app.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/config.js';
import { makeDeps } from './deps.js';
import { freshPglite } from './stores.js';

/** Runs `switchboard ${argv}` on `app`, which stays open (main closes the app it is given). */
export async function runCli(
  app: App,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: {},
    isTTY: false,
    openApp: async () => ({ ...app, close: async () => undefined }),
  });
  return { code, stdout, stderr };
}

/**
 * An app on a fresh PGlite store for runCli: Bob approves, U01ADMIN administers, the sandbox
 * carrier and agents. Its close() closes the store.
 */
export async function freshCliApp(): Promise<App> {
  const store = await freshPglite();
  const env = { SWITCHBOARD_APPROVERS: 'U01BOB', SWITCHBOARD_ADMINS: 'U01ADMIN' };
  return {
    config: loadConfig(env),
    deps: makeDeps(store),
    storeLabel: 'test',
    close: () => store.close(),
  };
}
