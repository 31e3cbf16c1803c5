/**
 * A Prism mock of a trimmed vendor spec, behind a small validating proxy.
 *
 * Prism (`@stoplight/prism-cli`, pinned to 5.14.2: later versions need Node 24) validates request
 * bodies, types, enums and auth with `--errors`, but it lets misspelled query keys, deep-object
 * filter keys and form fields through. The proxy closes that gap: a query or form key the
 * operation does not declare is answered with 422 before Prism sees it. Every request is recorded,
 * with what the proxy rejected and the violations Prism reported (`sl-violations`).
 *
 *   const prism = await startPrism('test/contracts/specs/telnyx.trimmed.json');
 *   // point the SDK at prism.url; afterwards: await prism.close();
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** "METHOD /template" of the matched operation, or null when no operation matched. */
  operation: string | null;
  query: [string, string][];
  headers: IncomingHttpHeaders;
  /** Parsed JSON or form body (form: entries), or the raw text. */
  body: unknown;
  status: number;
  /** Keys the proxy refused because the operation does not declare them. */
  rejected: string[];
  /** Prism's own violations (`sl-violations` header), if any. */
  violations: unknown[];
}

export interface PrismMock {
  /** Base URL of the validating proxy (no trailing slash). */
  url: string;
  requests: RecordedRequest[];
  /** Milliseconds Prism took to say it was listening. */
  startupMs: number;
  close(): Promise<void>;
}

export interface StartPrismOptions {
  /** Generate responses from schemas instead of examples. */
  dynamic?: boolean;
  startTimeoutMs?: number;
}

type Json = Record<string, unknown>;

interface OperationRule {
  method: string;
  template: string;
  pattern: RegExp;
  /** null: any key is allowed (the spec leaves the object open). */
  queryKeys: Set<string> | null;
  queryPrefixes: string[];
  formKeys: Set<string> | null;
}

const PRISM_START_RE = /Prism is listening on/;

export async function startPrism(
  specPath: string,
  options: StartPrismOptions = {},
): Promise<PrismMock> {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Json;
  const rules = operationRules(spec);
  const prism = await spawnPrism(specPath, options);
  const requests: RecordedRequest[] = [];
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const method = (req.method ?? 'GET').toUpperCase();
      const rule = rules.find((r) => r.method === method && r.pattern.test(url.pathname)) ?? null;
      const contentType = String(req.headers['content-type'] ?? '');
      const form = contentType.includes('application/x-www-form-urlencoded')
        ? [...new URLSearchParams(raw.toString('utf8')).entries()]
        : null;
      const record: RecordedRequest = {
        method,
        path: url.pathname,
        operation: rule ? `${rule.method} ${rule.template}` : null,
        query: [...url.searchParams.entries()],
        headers: req.headers,
        body: form ?? parseBody(raw),
        status: 0,
        rejected: [],
        violations: [],
      };
      requests.push(record);
      if (rule) {
        for (const [key] of record.query) {
          if (!keyAllowed(key, rule.queryKeys, rule.queryPrefixes))
            record.rejected.push(`query:${key}`);
        }
        for (const [key] of form ?? []) {
          if (rule.formKeys && !rule.formKeys.has(key)) record.rejected.push(`form:${key}`);
        }
      }
      if (record.rejected.length > 0) {
        record.status = 422;
        const detail = `Undeclared by ${record.operation}: ${record.rejected.join(', ')}`;
        res.writeHead(422, { 'content-type': 'application/json' });
        // Both Telnyx-shaped (`errors[]`) and Twilio-shaped (`code`, `message`) so any SDK reads it.
        res.end(
          JSON.stringify({
            errors: [{ code: 'undeclared_key', title: 'Undeclared key', detail }],
            code: 422,
            message: detail,
          }),
        );
        return;
      }
      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port: prism.port,
          method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${prism.port}` },
        },
        (upstreamRes) => {
          record.status = upstreamRes.statusCode ?? 0;
          const violations = upstreamRes.headers['sl-violations'];
          if (typeof violations === 'string') {
            try {
              record.violations = JSON.parse(violations) as unknown[];
            } catch {
              record.violations = [violations];
            }
          }
          res.writeHead(record.status, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      upstream.on('error', (error) => {
        record.status = 502;
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            errors: [{ code: 'proxy', title: 'Prism unreachable', detail: error.message }],
          }),
        );
      });
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    startupMs: prism.startupMs,
    close: async () => {
      await closeServer(proxy);
      await prism.stop();
    },
  };
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function keyAllowed(key: string, keys: Set<string> | null, prefixes: string[]): boolean {
  if (keys === null) return true;
  if (keys.has(key)) return true;
  return prefixes.some((prefix) => key.startsWith(prefix));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// ------------------------------------------------------------------------------------------------
// What each operation declares

function operationRules(spec: Json): OperationRule[] {
  const resolve = (node: unknown): Json => {
    let current = node as Json;
    for (let hops = 0; current && typeof current.$ref === 'string' && hops < 32; hops++) {
      let target: unknown = spec;
      for (const part of (current.$ref as string).slice(2).split('/')) {
        target = (target as Json)[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')];
      }
      current = target as Json;
    }
    return current ?? {};
  };
  const properties = (schemaNode: unknown): Record<string, unknown> | null => {
    const schema = resolve(schemaNode);
    if (Array.isArray(schema.allOf)) {
      const merged: Record<string, unknown> = {};
      for (const branch of schema.allOf) {
        const props = properties(branch);
        if (props === null) return null;
        Object.assign(merged, props);
      }
      return merged;
    }
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false)
      return null;
    if (!schema.properties)
      return schema.type === 'object' || schema.additionalProperties === false ? {} : null;
    return schema.properties as Record<string, unknown>;
  };

  const rules: OperationRule[] = [];
  for (const [template, itemNode] of Object.entries((spec.paths ?? {}) as Record<string, Json>)) {
    const item = resolve(itemNode);
    const pattern = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`,
    );
    for (const [method, opNode] of Object.entries(item)) {
      if (method === 'parameters' || typeof opNode !== 'object') continue;
      const op = resolve(opNode);
      const params = [
        ...((item.parameters as unknown[]) ?? []),
        ...((op.parameters as unknown[]) ?? []),
      ].map(resolve);
      let queryKeys: Set<string> | null = new Set();
      const queryPrefixes: string[] = [];
      for (const param of params) {
        if (param.in !== 'query') continue;
        const name = String(param.name);
        const schema = resolve(param.schema);
        if (param.style === 'deepObject') {
          const props = properties(schema);
          if (props === null) {
            queryPrefixes.push(`${name}[`);
            continue;
          }
          for (const [prop, propSchemaNode] of Object.entries(props)) {
            addKeys(
              queryKeys,
              `${name}[${prop}]`,
              resolve(propSchemaNode),
              properties,
              queryPrefixes,
            );
          }
        } else {
          queryKeys?.add(name);
          if (schema.type === 'array') queryKeys?.add(`${name}[]`);
          if (schema.type === 'object' && param.explode !== false) {
            // form-style exploded object: its properties become top-level keys
            const props = properties(schema);
            if (props === null) queryKeys = null;
            else for (const prop of Object.keys(props)) queryKeys?.add(prop);
          }
        }
      }
      let formKeys: Set<string> | null = null;
      const body = op.requestBody ? resolve(op.requestBody) : null;
      const formMedia = (body?.content as Record<string, Json> | undefined)?.[
        'application/x-www-form-urlencoded'
      ];
      if (formMedia) {
        const props = properties(formMedia.schema);
        formKeys = props === null ? null : new Set(Object.keys(props));
      }
      rules.push({
        method: method.toUpperCase(),
        template,
        pattern,
        queryKeys,
        queryPrefixes,
        formKeys,
      });
    }
  }
  // Literal paths before templated ones, so /phone_numbers/slim never matches /phone_numbers/{id}.
  return rules.sort((a, b) => a.template.split('{').length - b.template.split('{').length);
}

function addKeys(
  keys: Set<string> | null,
  key: string,
  schema: Json,
  properties: (schema: unknown) => Record<string, unknown> | null,
  prefixes: string[],
): void {
  if (keys === null) return;
  keys.add(key);
  if (schema.type === 'array') {
    keys.add(`${key}[]`);
    prefixes.push(`${key}[`); // indexed forms: key[0], key[1]
  }
  const variants = [schema, ...(((schema.oneOf ?? schema.anyOf) as Json[] | undefined) ?? [])];
  for (const variant of variants) {
    if (variant.type === 'array') keys.add(`${key}[]`);
    if (variant.type === 'object' || variant.properties) {
      const props = properties(variant);
      if (props === null) prefixes.push(`${key}[`);
      else for (const prop of Object.keys(props)) keys.add(`${key}[${prop}]`);
    }
  }
}

// ------------------------------------------------------------------------------------------------
// The Prism process

interface RunningPrism {
  port: number;
  startupMs: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

function prismBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@stoplight/prism-cli/package.json')), 'dist', 'index.js');
}

async function spawnPrism(
  specPath: string,
  options: StartPrismOptions,
  attempt = 0,
): Promise<RunningPrism> {
  const port = await freePort();
  const args = [prismBin(), 'mock', '--port', String(port), '--host', '127.0.0.1', '--errors'];
  if (options.dynamic) args.push('--dynamic');
  args.push(specPath);
  const started = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // If the test process dies, Prism must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `Prism did not start within ${options.startTimeoutMs ?? 20_000} ms:\n${output.slice(-2000)}`,
            ),
          ),
        options.startTimeoutMs ?? 20_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.length > 20_000) output = output.slice(-10_000); // keep only the tail
        if (PRISM_START_RE.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Prism exited (${code}) before listening:\n${output.slice(-2000)}`));
      });
    });
  } catch (error) {
    await stop();
    // The free port can be taken between our probe and Prism's listen: try once more.
    if (attempt === 0 && /EADDRINUSE/.test(String(error))) return spawnPrism(specPath, options, 1);
    throw error;
  }
  // Keep draining its log so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  return { port, startupMs: Date.now() - started, stop };
}

/** Narrow helper for tests: the recorded requests of one operation. */
export function requestsFor(mock: PrismMock, operation: string): RecordedRequest[] {
  return mock.requests.filter((r) => r.operation === operation);
}
