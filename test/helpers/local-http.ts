/** Plumbing shared by the vendor scenario servers: a loopback listener and a request body reader. */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on a free loopback port. `close` also ends open keep-alive and hanging connections, and
 * may be called more than once (a test that closes its server early, then the afterEach).
 */
export async function listenLocal(
  server: Server,
): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON request as a scenario server sees it: method, path, and body (`{}` when empty). */
export async function readJsonRequest(
  req: IncomingMessage,
): Promise<{ url: URL; method: string; path: string; body: Record<string, unknown> }> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const raw = await readBody(req);
  return {
    url,
    method: req.method ?? 'GET',
    path: url.pathname,
    body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
  };
}

/** Faults for the next request to a route (`METHOD /path-prefix`), each used once. */
export function faultQueue<Fault>(): {
  add(route: string, fault: Fault): void;
  /** The first fault queued for a route `${method} ${path}` starts with, taken off the queue. */
  take(method: string, path: string): Fault | undefined;
} {
  const faults: Array<{ route: string; fault: Fault }> = [];
  return {
    add: (route, fault) => void faults.push({ route, fault }),
    take(method, path) {
      const index = faults.findIndex(({ route }) => `${method} ${path}`.startsWith(route));
      return index >= 0 ? faults.splice(index, 1)[0]!.fault : undefined;
    },
  };
}
