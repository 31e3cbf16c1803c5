/**
 * Slack ack latency: 50 simultaneous signed `/number buy 415` requests to a real `switchboard
 * serve` running as its own process (the built bin: Bolt's HTTPReceiver, an embedded store, the
 * sandbox carrier answering every call after 2 s), sent from this process as Slack would send them.
 * Ack time is from sending the request to getting the HTTP answer; the purchases go on after it.
 * Goal: p99 under 100 ms (Slack allows 3 s; we aim far below).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BOT_TOKEN,
  SIGNING_SECRET,
  postSigned,
  slashBody,
  startFakeSlack,
} from '../../test/slack/fake-slack.js';

const CONCURRENT = Number(process.env.BENCH_SLACK_CONCURRENT ?? 50);
const CARRIER_LATENCY_MS = 2000;
// Bundled into node_modules/.cache by tools/bench.mjs, which runs from the repository root.
const BIN = join(process.cwd(), 'bin', 'switchboard.js');

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export async function run(): Promise<
  Array<{ name: string; value: number; unit: string; goal: string; met: boolean | null }>
> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-slack-bench-'));
  const fake = await startFakeSlack();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serve = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SWITCHBOARD_DATA_DIR: join(dir, 'data'),
      SWITCHBOARD_SANDBOX_LATENCY_MS: String(CARRIER_LATENCY_MS),
      SWITCHBOARD_APPROVERS: 'U01BOB',
      SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '0',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_APPROVAL_CHANNEL: 'C0APPROVALS',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    serve.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('listening on')) resolve();
    });
    serve.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening`)));
  });
  try {
    // One warm-up request, so that the figure is not the first query's.
    await postSigned(url, slashBody(fake, 'U0WARMUP', 'help', 'warmup'));
    const acks = await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const body = slashBody(fake, `U0MEMBER${i}`, 'buy 415 --reason bench', `bench-${i}`);
        const start = performance.now();
        const res = await postSigned(url, body);
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
    serve.kill('SIGTERM');
    await new Promise((resolve) => serve.once('exit', resolve));
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
