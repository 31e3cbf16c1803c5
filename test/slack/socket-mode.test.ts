/**
 * Socket Mode wiring without a network: with SLACK_APP_TOKEN, serve opens a connection through
 * apps.connections.open on the fake Web API (authenticated with the app token), connects to the
 * local WebSocket server it names, and a slash command arriving over it is acked on the socket
 * and answered through response_url, like in HTTP mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { APP_TOKEN, eventually, textOf } from './fake-slack.js';
import { startHarness } from './harness.js';
import type { Harness } from './harness.js';

let h: Harness | undefined;
let wss: WebSocketServer | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const client of wss?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
  wss = undefined;
});

describe('Socket Mode', () => {
  it('connects with the app token and handles /number over the socket', async () => {
    const sockets: WebSocket[] = [];
    const received: Array<Record<string, unknown>> = [];
    h = await startHarness({
      env: { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '' },
      socket: async () => {
        wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
        await new Promise((resolve) => wss!.once('listening', resolve));
        wss.on('connection', (socket) => {
          sockets.push(socket);
          socket.on('message', (data) =>
            received.push(JSON.parse(String(data)) as Record<string, unknown>),
          );
          socket.send(
            JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'local' } }),
          );
        });
        const { port } = wss.address() as { port: number };
        return `ws://127.0.0.1:${port}/link`;
      },
    });
    expect(h.server.slackMode).toBe('socket');
    const open = h.fake.callsTo('apps.connections.open');
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open[0]?.authorization).toBe(`Bearer ${APP_TOKEN}`);
    expect(sockets).toHaveLength(1);

    // Slack's HTTP route is not served in Socket Mode.
    const res = await fetch(`${h.server.url}/slack/events`, { method: 'POST', body: 'x=1' });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Socket Mode');

    sockets[0]!.send(
      JSON.stringify({
        envelope_id: 'env-1',
        type: 'slash_commands',
        accepts_response_payload: true,
        payload: {
          team_id: 'T0TEST',
          channel_id: 'C0GENERAL',
          user_id: 'U01ALICE',
          user_name: 'alice',
          command: '/number',
          text: 'search 415',
          api_app_id: 'A0TEST',
          response_url: h.fake.responseUrl('socket-search'),
          trigger_id: 'trigger-socket',
        },
      }),
    );
    await eventually(
      () => received.find((m) => m.envelope_id === 'env-1'),
      'the ack on the socket',
    );
    const reply = await eventually(
      () => h!.fake.responses.find((r) => r.id === 'socket-search'),
      'the search answer',
    );
    expect(textOf(reply.body.blocks)).toContain('area code 415');
  });
});
