#!/usr/bin/env node
// The `switchboard` command. The CLI is bundled into dist/ by `npm run build`, which `npm ci`
// runs through the `prepare` script, so users never run TypeScript through a loader.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('switchboard is not built yet: run `npm run build` (npm ci does it for you).');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
