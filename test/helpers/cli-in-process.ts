/** The CLI's main() run in process on a test app, its output captured. */
import type { App } from '../../src/app.js';
import { main } from '../../src/cli/main.js';

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
