/** A real MCP `Client` joined to a fresh Switchboard MCP server in memory, one per test. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Deps } from '../../src/core/ports.js';
import type { McpIdentity, McpServerOptions } from '../../src/mcp/server.js';
import { createMcpServer } from '../../src/mcp/server.js';

export interface Connected {
  client: Client;
  close(): Promise<void>;
}

export async function connectInMemory(
  deps: Deps,
  identity: McpIdentity,
  capabilities: ClientCapabilities = {},
  setup?: (client: Client) => void,
  options: McpServerOptions = {},
): Promise<Connected> {
  const server = createMcpServer(deps, identity, options);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'switchboard-test', version: '1.0.0' }, { capabilities });
  setup?.(client);
  await client.connect(clientSide);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

export const MCP_ALICE: McpIdentity = {
  actor: { id: 'U01ALICE', surface: 'mcp', displayName: 'Alice (MCP)' },
  role: 'requester',
};

/** The stdio default: the local operator, an admin, over MCP. */
export const MCP_LOCAL: McpIdentity = {
  actor: { id: 'local', surface: 'mcp', displayName: 'local operator', extraRoles: ['admin'] },
  role: 'requester',
};

export const MCP_READER: McpIdentity = {
  actor: { id: 'mcp:dashboard', surface: 'mcp', displayName: 'MCP token dashboard' },
  role: 'reader',
};

export function textOf(result: unknown): string {
  const content = ((result as { content?: unknown }).content ?? []) as Array<{
    type: string;
    text?: string;
  }>;
  return content.map((c) => c.text ?? '').join('\n');
}
