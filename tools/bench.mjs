// `npm run bench`: prints figures, asserts nothing. Each benchmark reports its figure, its goal
// and whether it met it; `--json` prints the same as one JSON document. Later issues add theirs.
// The issue-3 benchmarks (sync of 100,000 numbers, search over two carriers) are TypeScript in
// tools/bench/, bundled with esbuild into a temporary folder under node_modules/.cache (so that
// their external packages resolve) and run there: `node tools/bench.mjs [--json] [--skip-issue3]`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const json = process.argv.includes('--json');
const bin = new URL('../bin/switchboard.js', import.meta.url).pathname;
execFileSync(process.execPath, [new URL('./build.mjs', import.meta.url).pathname], {
  stdio: 'inherit',
});

const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
const env = { PATH: process.env.PATH, HOME: dir, SWITCHBOARD_DATA_DIR: join(dir, 'data') };
const time = (args) => {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, [bin, ...args], { env, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const results = [];
try {
  results.push({
    name: 'CLI `--help`, median of 10 runs',
    value: median(Array.from({ length: 10 }, () => time(['--help']))),
    unit: 'ms',
    goal: '< 1000 ms',
    met: null,
  });
  results.push({
    name: 'first command on a new embedded store (creates the database)',
    value: time(['search', '415']),
    unit: 'ms',
    goal: 'informational',
    met: null,
  });
  results.push({
    name: '`search 415` on an existing embedded store, median of 5',
    value: median(Array.from({ length: 5 }, () => time(['search', '415']))),
    unit: 'ms',
    goal: 'informational',
    met: null,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
results[0].met = results[0].value < 1000;

if (!process.argv.includes('--skip-issue3')) {
  const cache = new URL('../node_modules/.cache/', import.meta.url).pathname;
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'switchboard-bench-'));
  try {
    await build({
      entryPoints: { main: 'tools/bench/main.ts', 'sync-child': 'tools/bench/sync-child.ts' },
      outdir: out,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    const output = execFileSync(process.execPath, [join(out, 'main.js')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    });
    results.push(...JSON.parse(output.toString('utf8').trim().split('\n').pop()));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (json) {
  console.log(
    JSON.stringify(
      {
        machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
        results,
      },
      null,
      2,
    ),
  );
} else {
  const rows = results.map((r) => [
    r.name,
    r.unit === '×'
      ? `${r.value.toFixed(r.digits ?? 2)}×`
      : `${r.value.toFixed(r.digits ?? 0)} ${r.unit}`,
    r.goal,
    r.met === null ? '-' : r.met ? 'met' : 'NOT met',
  ]);
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(
      ...rows.map((row) => row[i].length),
      ['benchmark', 'figure', 'goal', 'result'][i].length,
    ),
  );
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(['benchmark', 'figure', 'goal', 'result']));
  for (const row of rows) console.log(line(row));
}
