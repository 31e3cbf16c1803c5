/**
 * A raw MCP-over-HTTP call, for tests that look at the HTTP answer itself (status, Retry-After)
 * rather than at what the SDK's client makes of it.
 */

/** The JSON-RPC `initialize` request a client opens a session with. */
export function mcpInitialize(clientName: string): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: clientName, version: '1.0.0' },
    },
  };
}

/** POSTs one JSON-RPC message to `${baseUrl}/mcp` with a bearer token (and a session, if any). */
export function postMcp(
  baseUrl: string,
  token: string,
  body: unknown,
  session?: string,
): Promise<Response> {
  return fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(session ? { 'mcp-session-id': session } : {}),
    },
    body: JSON.stringify(body),
  });
}
