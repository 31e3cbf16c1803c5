import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';

/** Mounted by `switchboard serve` at POST /mcp (Streamable HTTP). Built in issue 6. */
export interface McpHttpHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

export interface McpHttpOptions {
  /** Host header values accepted (DNS-rebinding protection), e.g. ["127.0.0.1:3000", "localhost:3000"]. */
  allowedHosts: string[];
  /** Origin header values accepted when a browser sends one. */
  allowedOrigins?: string[];
}

export async function createMcpHttpHandler(
  _app: App,
  _options: McpHttpOptions,
): Promise<McpHttpHandler> {
  return {
    async handle(_req, res) {
      res.writeHead(501, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'MCP over HTTP is not built yet (issue 6).' }));
    },
    async close() {},
  };
}
