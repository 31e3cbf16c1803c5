#!/usr/bin/env node
/**
 * trim-spec: cuts a vendor OpenAPI document down to the operations Switchboard calls, for Prism.
 *
 *   node tools/trim-spec.mjs --spec <file.yml|file.json> --out <file.json> \
 *     --op "GET /available_phone_numbers" --op "POST /number_orders" ... \
 *     [--response-depth N] [--source "owner/repo, path"] [--commit <sha>] [--specs-readme <README.md>]
 *
 *   --spec            the untouched vendor document (YAML or JSON), e.g. ../shared/specs/telnyx_spec3.yml
 *   --out             where to write the trimmed JSON, e.g. test/contracts/specs/telnyx.trimmed.json
 *   --op              one operation, "METHOD /path" exactly as the document spells the path; repeat it
 *   --response-depth  keep response schemas only N `$ref` levels deep and free-form below (inlined);
 *                     VAPI needs 2, because Prism never finishes dereferencing its full schemas.
 *                     Without it, responses keep every schema they reference.
 *   --source/--commit where the document came from; by default read from the table in the
 *                     README.md next to --spec (or --specs-readme), matched by file name.
 *
 * What the output keeps: `openapi`, `info`, `servers`, `security`, the chosen operations (with their
 * path-level parameters) and every component they reference, transitively; security schemes are
 * kept whole. What it changes, so that Prism in strict mode catches our mistakes:
 *   - request bodies are inlined and made strict: every object schema gets
 *     `additionalProperties: false` unless the vendor already said what extra keys may be; `allOf`
 *     of plain objects is merged first (a strict `allOf` branch would reject its siblings' keys);
 *   - empty enums are dropped (they make every value invalid and break Prism's faker);
 *   - with --response-depth, a response `oneOf` that the cut left with a free-form branch becomes
 *     `anyOf` (every value would match each `{}` branch, so "exactly one" could never hold).
 * The source file, repository, path, commit, operations and options go into `info.x-trimmed-from`,
 * so that anyone can re-run the same trim. Needs `js-yaml` only for YAML input (present in
 * node_modules through eslint); the committed output is plain JSON and needs nothing.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function usage(message) {
  if (message) console.error(`trim-spec: ${message}`);
  console.error(
    'usage: node tools/trim-spec.mjs --spec <file> --out <file.json> --op "METHOD /path" [--op ...] [--response-depth N] [--source "repo, path"] [--commit sha]',
  );
  process.exit(2);
}

async function load(path) {
  const text = readFileSync(path, 'utf8');
  if (/\.ya?ml$/i.test(path)) {
    const yaml = await import('js-yaml');
    return (yaml.default ?? yaml).load(text);
  }
  return JSON.parse(text);
}

/** Reads "| file | source repository, path | commit (date) | format |" rows of specs/README.md. */
function sourceFromReadme(readmePath, fileName) {
  if (!existsSync(readmePath)) return {};
  let previousCommit;
  for (const line of readFileSync(readmePath, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 5) continue;
    const [, file, source, commitCell] = cells;
    const sha = /\b[0-9a-f]{40}\b/.exec(commitCell ?? '')?.[0];
    const commit = sha ?? (/same snapshot/i.test(commitCell ?? '') ? previousCommit : undefined);
    if (sha) previousCommit = sha;
    if (file === fileName) return { source, commit, commitNote: commitCell };
  }
  return {};
}

function decodePointer(ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolve(doc, ref) {
  let node = doc;
  for (const part of decodePointer(ref)) {
    node = node?.[part];
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  }
  return node;
}

const clone = (value) => globalThis.structuredClone(value);

/** Every local $ref reachable from `node`, following refs transitively. */
function collectRefs(doc, node, skip = () => false, seen = new Set()) {
  const stack = [node];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      stack.push(...current);
    } else if (current && typeof current === 'object') {
      for (const [key, value] of Object.entries(current)) {
        if (key === '$ref' && typeof value === 'string') {
          if (!seen.has(value) && !skip(value)) {
            seen.add(value);
            stack.push(resolve(doc, value));
          }
        } else {
          stack.push(value);
        }
      }
    }
  }
  return seen;
}

/** Inlines $refs, cutting to `{}` (free-form) below `depth` ref levels or on a cycle. */
function inline(doc, node, depth, path = []) {
  if (Array.isArray(node)) return node.map((item) => inline(doc, item, depth, path));
  if (!node || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    if (depth <= 0 || path.includes(node.$ref)) return {};
    const { $ref, ...siblings } = node;
    const target = inline(doc, resolve(doc, $ref), depth - 1, [...path, $ref]);
    return Object.keys(siblings).length > 0
      ? { ...target, ...inline(doc, siblings, depth, path) }
      : target;
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) out[key] = inline(doc, value, depth, path);
  return out;
}

const isFreeForm = (schema) =>
  schema !== null &&
  typeof schema === 'object' &&
  !Array.isArray(schema) &&
  Object.keys(schema).every((key) => key === 'description' || key === 'title');

/**
 * Turns each `oneOf` with a free-form branch into `anyOf`, returning how many. A cut leaves `{}`
 * below the depth, and inside a `oneOf` that is fatal: any value matches every `{}` branch, so
 * "exactly one" never holds and Prism answers the operation with a 500 about its own response.
 * `anyOf` accepts what the vendor meant (one branch; below the cut unchecked).
 */
function anyOfForCutBranches(node) {
  if (Array.isArray(node)) return node.reduce((sum, item) => sum + anyOfForCutBranches(item), 0);
  if (!node || typeof node !== 'object') return 0;
  let changed = 0;
  if (Array.isArray(node.oneOf) && node.oneOf.some(isFreeForm)) {
    node.anyOf = node.oneOf;
    delete node.oneOf;
    changed++;
  }
  for (const value of Object.values(node)) changed += anyOfForCutBranches(value);
  return changed;
}

/** Drops `enum: []`, which no value can satisfy. */
function dropEmptyEnums(node) {
  if (Array.isArray(node)) return node.forEach(dropEmptyEnums);
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node.enum) && node.enum.length === 0) delete node.enum;
  for (const value of Object.values(node)) dropEmptyEnums(value);
}

const isPlainObjectSchema = (schema) =>
  schema &&
  typeof schema === 'object' &&
  !schema.oneOf &&
  !schema.anyOf &&
  !schema.allOf &&
  !schema.$ref &&
  (schema.type === 'object' || schema.properties !== undefined);

/**
 * Makes a request schema reject keys it does not declare. Referenced schemas are not inlined
 * (VAPI's would grow to megabytes): each gets a strict twin, `#/components/schemas/<Name>.Strict`,
 * so responses keep the vendor's own, lenient schema.
 */
function makeStrictifier(doc) {
  const twins = {};
  const twinRef = (ref) => {
    const parts = decodePointer(ref);
    if (parts[0] !== 'components' || parts[1] !== 'schemas') return ref;
    const name = `${parts[2]}.Strict`;
    if (!(name in twins)) {
      twins[name] = null; // reserved first, so a cycle refers to the twin being built
      twins[name] = strictify(clone(resolve(doc, ref)));
    }
    return `#/components/schemas/${encodeURIComponent(name)}`;
  };
  const plain = (schema) => (schema?.$ref ? resolve(doc, schema.$ref) : schema);

  function strictify(schema) {
    if (Array.isArray(schema)) return schema.map(strictify);
    if (!schema || typeof schema !== 'object') return schema;
    if (typeof schema.$ref === 'string') return { ...schema, $ref: twinRef(schema.$ref) };
    let out = { ...schema };
    if (
      Array.isArray(out.allOf) &&
      out.allOf.every((branch) => isPlainObjectSchema(plain(branch)))
    ) {
      // Merge plain-object allOf branches into one object, so one strict schema sees all the keys.
      const { allOf, ...rest } = out;
      const merged = { ...rest, type: 'object', properties: { ...(rest.properties ?? {}) } };
      const required = new Set(rest.required ?? []);
      for (const branch of allOf.map(plain)) {
        Object.assign(merged.properties, clone(branch.properties ?? {}));
        for (const key of branch.required ?? []) required.add(key);
      }
      if (required.size > 0) merged.required = [...required];
      out = merged;
    }
    for (const [key, value] of Object.entries(out)) {
      if (['example', 'examples', 'default', 'enum', 'const', 'discriminator'].includes(key))
        continue;
      if (key === 'properties' && value && typeof value === 'object') {
        out.properties = Object.fromEntries(
          Object.entries(value).map(([name, sub]) => [name, strictify(sub)]),
        );
      } else if (value && typeof value === 'object') {
        out[key] = strictify(value);
      }
    }
    if (isPlainObjectSchema(out) && out.properties && out.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
    return out;
  }
  return { strictify, twins };
}

function trim(doc, operations, { responseDepth }) {
  const paths = {};
  let cutOneOfs = 0;
  const { strictify, twins } = makeStrictifier(doc);
  for (const operation of operations) {
    const match = /^([A-Za-z]+)\s+(\/\S*)$/.exec(operation.trim());
    if (!match) throw new Error(`bad operation "${operation}": expected "METHOD /path"`);
    const method = match[1].toLowerCase();
    const path = match[2];
    if (!HTTP_METHODS.includes(method)) throw new Error(`bad method in "${operation}"`);
    const item = doc.paths?.[path];
    if (!item?.[method]) throw new Error(`the document has no ${method.toUpperCase()} ${path}`);
    paths[path] ??= item.parameters ? { parameters: clone(item.parameters) } : {};
    const op = clone(item[method]);
    delete op.callbacks; // webhooks we never receive from a mock

    if (op.requestBody) {
      const body = op.requestBody.$ref ? clone(resolve(doc, op.requestBody.$ref)) : op.requestBody;
      for (const media of Object.values(body.content ?? {})) {
        if (media.schema) media.schema = strictify(media.schema);
      }
      op.requestBody = body;
    }
    if (responseDepth !== undefined && op.responses) {
      for (const [status, response] of Object.entries(op.responses)) {
        const resolved = response.$ref ? clone(resolve(doc, response.$ref)) : response;
        for (const media of Object.values(resolved.content ?? {})) {
          if (media.schema) {
            media.schema = inline(doc, media.schema, responseDepth);
            cutOneOfs += anyOfForCutBranches(media.schema);
          }
          // Examples of a cut schema may no longer match it; Prism can generate from the schema.
          if (media.examples) media.examples = inline(doc, media.examples, 8);
        }
        delete resolved.links;
        op.responses[status] = resolved;
      }
    }
    paths[path][method] = op;
  }

  // The strict twins exist only in the output: collect refs from them, but skip their own names.
  const isTwin = (ref) => decodeURIComponent(ref.split('/').pop() ?? '') in twins;
  const refs = collectRefs(doc, [paths, Object.values(twins)], isTwin);
  const components = Object.keys(twins).length > 0 ? { schemas: { ...twins } } : {};
  for (const ref of refs) {
    const parts = decodePointer(ref);
    if (parts[0] !== 'components' || parts.length !== 3) {
      throw new Error(`unsupported $ref ${ref}: only #/components/<kind>/<name>`);
    }
    const [, kind, name] = parts;
    components[kind] ??= {};
    components[kind][name] = clone(resolve(doc, ref));
  }
  if (doc.components?.securitySchemes)
    components.securitySchemes = clone(doc.components.securitySchemes);
  for (const kind of Object.keys(components)) {
    components[kind] = Object.fromEntries(
      Object.entries(components[kind]).sort(([a], [b]) => a.localeCompare(b)),
    );
  }

  const out = {
    openapi: doc.openapi,
    info: clone(doc.info ?? { title: 'trimmed', version: '0' }),
    ...(doc.servers ? { servers: clone(doc.servers) } : {}),
    ...(doc.security ? { security: clone(doc.security) } : {}),
    paths,
    components,
  };
  dropEmptyEnums(out);
  return { doc: out, cutOneOfs };
}

async function main() {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string' },
      out: { type: 'string' },
      op: { type: 'string', multiple: true },
      'response-depth': { type: 'string' },
      source: { type: 'string' },
      commit: { type: 'string' },
      'specs-readme': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) usage();
  if (!values.spec || !values.out || !values.op?.length)
    usage('--spec, --out and at least one --op are required');
  const responseDepth =
    values['response-depth'] === undefined
      ? undefined
      : Number.parseInt(values['response-depth'], 10);
  if (responseDepth !== undefined && !(responseDepth >= 0))
    usage('--response-depth takes a whole number');

  const doc = await load(values.spec);
  const fileName = basename(values.spec);
  const fromReadme = sourceFromReadme(
    values['specs-readme'] ?? join(dirname(values.spec), 'README.md'),
    fileName,
  );
  const commit = values.commit ?? fromReadme.commit;
  if (!commit) usage(`no commit known for ${fileName}: pass --commit`);

  const { doc: trimmed, cutOneOfs } = trim(doc, values.op, { responseDepth });
  trimmed.info['x-trimmed-from'] = {
    file: fileName,
    source: values.source ?? fromReadme.source ?? null,
    commit,
    ...(fromReadme.commitNote ? { note: fromReadme.commitNote } : {}),
    operations: values.op,
    responseDepth: responseDepth ?? null,
    ...(responseDepth !== undefined
      ? { responseCut: `${cutOneOfs} response oneOf with a cut (free-form) branch -> anyOf` }
      : {}),
    requestBodies: 'strict (additionalProperties: false)',
    tool: 'tools/trim-spec.mjs',
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(trimmed, null, 2)}\n`);
  const counts = Object.entries(trimmed.components)
    .map(([kind, entries]) => `${Object.keys(entries).length} ${kind}`)
    .join(', ');
  console.error(`trim-spec: ${values.op.length} operations, ${counts} -> ${values.out}`);
}

main().catch((error) => {
  console.error(`trim-spec: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
