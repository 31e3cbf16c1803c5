/**
 * Slack ack latency: 50 simultaneous signed `/number buy 415` requests to a real `serve` (Bolt's
 * HTTPReceiver, an embedded store, the sandbox carrier answering every call after 2 s). Ack time is
 * from sending the request to Slack getting the HTTP answer; the purchases go on after it. Goal:
 * p99 under 100 ms (Slack allows 3 s; we aim far below).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { startServer } from '../../src/server/server.js';
import {
  BOT_TOKEN,
  SIGNING_SECRET,
  postSigned,
  slashBody,
  startFakeSlack,
} from '../../test/slack/fake-slack.js';

const CONCURRENT = 50;
const CARRIER_LATENCY_MS = 2000;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

export async function run(): Promise<
  Array<{ name: string; value: number; unit: string; goal: string; met: boolean | null }>
> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-slack-bench-'));
  const fake = await startFakeSlack();
  const config = loadConfig({
    SWITCHBOARD_DATA_DIR: join(dir, 'data'),
    SWITCHBOARD_SANDBOX_LATENCY_MS: String(CARRIER_LATENCY_MS),
    SWITCHBOARD_APPROVERS: 'U01BOB',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.apiUrl,
    SLACK_APPROVAL_CHANNEL: 'C0APPROVALS',
  });
  const app = await openApp(config);
  const server = await startServer(app, {
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    env: config.env,
    jobs: false,
  });
  try {
    // One warm-up request, so that the figure is not the first query's.
    await postSigned(server.url, slashBody(fake, 'U0WARMUP', 'help', 'warmup'));
    const acks = await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const body = slashBody(fake, `U0MEMBER${i}`, 'buy 415 --reason bench', `bench-${i}`);
        const start = performance.now();
        const res = await postSigned(server.url, body);
        const ms = performance.now() - start;
        if (res.status !== 200) throw new Error(`ack ${i}: HTTP ${res.status}`);
        await res.arrayBuffer();
        return ms;
      }),
    );
    // Let the work behind the acks finish before closing the store.
    const deadline = Date.now() + 60_000;
    while (
      fake.responses.filter((r) => r.id.startsWith('bench-')).length < CONCURRENT &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 100));
    const p50 = percentile(acks, 50);
    const p99 = percentile(acks, 99);
    return [
      {
        name: `Slack ack of \`/number buy 415\`, p50 of ${CONCURRENT} at once (carrier takes ${CARRIER_LATENCY_MS / 1000} s)`,
        value: Math.round(p50 * 10) / 10,
        unit: 'ms',
        goal: '—',
        met: null,
      },
      {
        name: `Slack ack of \`/number buy 415\`, p99 of ${CONCURRENT} at once (carrier takes ${CARRIER_LATENCY_MS / 1000} s)`,
        value: Math.round(p99 * 10) / 10,
        unit: 'ms',
        goal: '< 100 ms',
        met: p99 < 100,
      },
    ];
  } finally {
    await server.close();
    await app.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
