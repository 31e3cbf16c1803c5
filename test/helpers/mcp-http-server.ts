/**
 * createMcpHttpHandler mounted on a small local node:http server (as `switchboard serve` mounts
 * it, at /mcp), and the SDK's clients connected to it over Streamable HTTP with a bearer token.
 */
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { App } from '../../src/app.js';
import type { McpHttpHandler } from '../../src/mcp/http.js';
import { createMcpHttpHandler } from '../../src/mcp/http.js';
import { listenLocal } from './local-http.js';

export interface McpHttpServer {
  /** The server's base URL (the handler answers at `${url}/mcp`). */
  url: string;
  handler: McpHttpHandler;
  /** An SDK client named `clientName`, connected with `token`; close() closes it. */
  connect(
    token: string,
    clientName: string,
    capabilities?: ClientCapabilities,
    setup?: (client: Client) => void,
  ): Promise<Client>;
  /** Closes the clients, the handler and the server (not the app's store). */
  close(): Promise<void>;
}

export async function startMcpHttpServer(app: App): Promise<McpHttpServer> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/mcp')) void handler.handle(req, res);
    else res.writeHead(404).end();
  });
  const listening = await listenLocal(server);
  const handler = await createMcpHttpHandler(app, { allowedHosts: [new URL(listening.url).host] });
  const clients: Client[] = [];
  return {
    url: listening.url,
    handler,
    async connect(token, clientName, capabilities = {}, setup) {
      const client = new Client({ name: clientName, version: '1.0.0' }, { capabilities });
      setup?.(client);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${listening.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients.splice(0)) await client.close().catch(() => undefined);
      await handler.close();
      await listening.close();
    },
  };
}
