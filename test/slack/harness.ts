/** A real `serve` (in process) on a PGlite test store with the sandbox carrier and a fake Slack. */
import pino from 'pino';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { Policy } from '../../src/core/ports.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';
import { BOT_TOKEN, SIGNING_SECRET, startFakeSlack } from './fake-slack.js';
import type { FakeSlack } from './fake-slack.js';

export interface Harness {
  app: App;
  deps: TestDeps;
  fake: FakeSlack;
  server: RunningServer;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    env?: Record<string, string>;
    policy?: Partial<Policy>;
    latencyMs?: number;
    socket?: (fake: FakeSlack) => Promise<string>;
  } = {},
): Promise<Harness> {
  const fake = await startFakeSlack();
  if (options.socket) fake.socketUrl = await options.socket(fake);
  const store = await freshPglite();
  const deps = makeDeps(store, {
    ...(options.policy ? { policy: options.policy } : {}),
    carrier: { latencyMs: options.latencyMs ?? 0 },
  });
  const env = {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.apiUrl,
    SLACK_APPROVAL_CHANNEL: 'C0APPROVALS',
    ...options.env,
  };
  const config = loadConfig(env);
  const app: App = { config, deps, storeLabel: 'test (pglite)', close: () => store.close() };
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const server = await startServer(app, {
    host: '127.0.0.1',
    port: 0,
    logger,
    env: config.env,
    jobs: false,
  });
  return {
    app,
    deps,
    fake,
    server,
    async close() {
      await server.close();
      await app.close();
      await fake.close();
    },
  };
}
