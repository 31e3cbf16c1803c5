#!/usr/bin/env node
/**
 * vapi-response-fixup: makes the depth-cut VAPI responses something Prism can validate.
 *
 *   node tools/trim-spec.mjs --spec ../shared/specs/vapi_openapi.json \
 *     --out test/contracts/specs/vapi.trimmed.json --response-depth 2 \
 *     --op "POST /phone-number" --op "GET /phone-number" --op "PATCH /phone-number/{id}" \
 *     --op "DELETE /phone-number/{id}" --op "GET /assistant" --op "GET /assistant/{id}"
 *   node test/contracts/specs/vapi-response-fixup.mjs test/contracts/specs/vapi.trimmed.json
 *
 * Why: `--response-depth` replaces schemas below the cut with free-form `{}`. Inside a `oneOf`
 * that is fatal: any value matches every `{}` branch, so "exactly one" never holds and Prism (with
 * `--errors`) answers each phone-number operation with a 500 about its own response. `anyOf`
 * accepts the same values the author meant (one branch, below the cut unchecked), so each such
 * `oneOf` in a response becomes an `anyOf`. Request bodies are left alone: they are never cut.
 * TODO(issue 4): fold this into tools/trim-spec.mjs (when a cut leaves a free-form branch in a
 * `oneOf`, emit `anyOf`) and delete this file.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const [path] = process.argv.slice(2);
if (!path) {
  console.error('usage: node test/contracts/specs/vapi-response-fixup.mjs <trimmed.json>');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(path, 'utf8'));
const freeForm = (schema) =>
  schema !== null &&
  typeof schema === 'object' &&
  Object.keys(schema).every((key) => key === 'description' || key === 'title');

let changed = 0;
function walk(node) {
  if (Array.isArray(node)) return node.forEach(walk);
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node.oneOf) && node.oneOf.some(freeForm)) {
    node.anyOf = node.oneOf;
    delete node.oneOf;
    changed++;
  }
  for (const value of Object.values(node)) walk(value);
}
for (const item of Object.values(spec.paths ?? {})) {
  for (const operation of Object.values(item)) {
    if (operation && typeof operation === 'object' && operation.responses)
      walk(operation.responses);
  }
}
spec.info['x-postprocessed'] = {
  tool: 'test/contracts/specs/vapi-response-fixup.mjs',
  change: 'response oneOf with a free-form (cut) branch -> anyOf',
  count: changed,
};
writeFileSync(path, `${JSON.stringify(spec, null, 2)}\n`);
console.log(`vapi-response-fixup: ${changed} response oneOf -> anyOf in ${path}`);
