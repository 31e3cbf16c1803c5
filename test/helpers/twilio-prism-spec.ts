/**
 * Twilio's canned examples break Twilio's own response schemas, and Prism (run with `--errors`)
 * then answers 500 instead of the example:
 *   - `uri`, `first_page_uri`, `next_page_uri`… are relative paths ("/2010-04-01/…"), while the
 *     schema says `format: uri` (absolute);
 *   - unset SIDs and URLs come as "" (Twilio really does that), against `pattern`, `minLength`
 *     and `format`;
 *   - decimals come as strings (latitude "19.720000", prices "1.00"), the schema says number.
 * So response schemas lose their string formats, patterns and lengths (types, properties and enums
 * stay), and those decimals their type, in a copy made at test time. The committed trimmed documents stay the trim tool's untouched output,
 * and request schemas (what these tests are about) are not touched at all.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

type Json = Record<string, unknown>;

const DECIMALS_AS_STRINGS = new Set(['latitude', 'longitude', 'base_price', 'current_price']);

function relax(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(relax);
  if (!node || typeof node !== 'object') return;
  const object = node as Json;
  const properties = object.properties as Record<string, Json> | undefined;
  if (properties && typeof properties === 'object') {
    for (const [name, schema] of Object.entries(properties)) {
      if (!schema || typeof schema !== 'object') continue;
      if (schema.type === 'string') {
        delete schema.format;
        delete schema.pattern;
        delete schema.minLength;
        delete schema.maxLength;
      }
      if (DECIMALS_AS_STRINGS.has(name)) delete schema.type;
    }
  }
  for (const [key, value] of Object.entries(object)) {
    if (key === 'requestBody' || key === 'parameters') continue;
    relax(value);
  }
}

/** Writes the relaxed copy of a trimmed Twilio document and returns its path. */
export function relaxedTwilioSpec(specPath: string): string {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Json;
  relax(spec.paths);
  relax(spec.components);
  const out = join(mkdtempSync(join(tmpdir(), 'twilio-spec-')), basename(specPath));
  writeFileSync(out, JSON.stringify(spec));
  return out;
}
