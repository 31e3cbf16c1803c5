/** `switchboard serve`: the spawned built command, and the server's routes in process. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { allowedHostsFor, startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { slackModeOf } from '../../src/slack/slack-app.js';
import { makeDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';

describe('switchboard serve (the built command)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-serve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts with no Slack settings, says how to connect Slack, serves /healthz, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/switchboard.js', 'serve'], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        SWITCHBOARD_DATA_DIR: join(dir, 'data'),
        HOST: '127.0.0.1',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const deadline = Date.now() + 60_000;
    while (!/listening on (http:\/\/\S+)/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`serve did not start:\n${stdout}\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1] as string;
    expect(stdout).toContain('To connect Slack');
    expect(stdout).toContain('SLACK_SIGNING_SECRET');
    const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      ok: true,
      slack: 'off',
      carriers: [{ name: 'sandbox', sandbox: true }],
    });
    expect(String(health.store)).toContain('embedded');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('shutting down');
    expect(stderr).toContain('"msg":"stopped"');
  });

  it('refuses arguments with a usage line', async () => {
    const child = spawn(process.execPath, ['bin/switchboard.js', 'serve', 'now'], {
      env: { PATH: process.env.PATH, HOME: dir, SWITCHBOARD_DATA_DIR: join(dir, 'data2') },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('serve takes no arguments');
  });
});

describe('Slack settings', () => {
  it('picks the mode, and names what is missing', () => {
    expect(slackModeOf({})).toBe('off');
    expect(
      slackModeOf({ SLACK_BOT_TOKEN: 'xoxb-test-not-a-real-token', SLACK_SIGNING_SECRET: 's' }),
    ).toBe('http');
    expect(
      slackModeOf({
        SLACK_BOT_TOKEN: 'xoxb-test-not-a-real-token',
        SLACK_APP_TOKEN: 'xapp-test-not-a-real-token',
      }),
    ).toBe('socket');
    expect(() => slackModeOf({ SLACK_SIGNING_SECRET: 's' })).toThrow(/SLACK_BOT_TOKEN is not/);
    expect(() => slackModeOf({ SLACK_BOT_TOKEN: 'xoxb-test-not-a-real-token' })).toThrow(
      /SLACK_SIGNING_SECRET \(HTTP mode\) nor SLACK_APP_TOKEN/,
    );
    expect(() => slackModeOf({ SLACK_BOT_TOKEN: 'xoxb-x', SLACK_APP_TOKEN: 'xoxb-wrong' })).toThrow(
      /xapp-/,
    );
  });

  it('allows the MCP endpoint the hosts it is reached by', () => {
    expect(allowedHostsFor('127.0.0.1', 3000)).toEqual(['127.0.0.1:3000', 'localhost:3000']);
    expect(allowedHostsFor('127.0.0.1', 3000, 'https://switchboard.example.com')).toEqual([
      '127.0.0.1:3000',
      'localhost:3000',
      'switchboard.example.com',
    ]);
  });
});

describe('serve routes (in process, no Slack)', () => {
  let server: RunningServer;
  let app: App;
  beforeAll(async () => {
    const store = await freshPglite();
    app = {
      config: loadConfig({}),
      deps: makeDeps(store),
      storeLabel: 'test',
      close: () => store.close(),
    };
    server = await startServer(app, {
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      env: {},
      jobs: false,
    });
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  it('answers 404 with what to set on /slack/events when Slack is not configured', async () => {
    const res = await fetch(`${server.url}/slack/events`, { method: 'POST', body: 'a=1' });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('SLACK_BOT_TOKEN');
  });

  it('refuses bodies over 1 MB with 413 on any route', async () => {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
  });

  it('forwards /mcp to the MCP handler', async () => {
    const res = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{}',
    });
    expect(await res.text()).not.toContain('No route');
  });

  it('answers unknown routes with 404 pointing at /healthz', async () => {
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('/healthz');
  });
});
