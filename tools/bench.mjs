// `npm run bench`: prints figures with their goals and whether each was met; asserts nothing.
//
//   node tools/bench.mjs [--json] [--only a,b] [--skip a,b]
//
// Suites: `cli` (timings of the built command, here) and every suite listed in
// tools/bench/suites.ts. Those are TypeScript, bundled with esbuild into a temporary folder under
// node_modules/.cache (so their external packages resolve) and run one process each: a suite that
// throws, exits or hangs becomes a failed row with its error, and the others still run.
// `--skip-issue3` is kept as `--skip sync,search`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout, clearTimeout } from 'node:timers';
import { build } from 'esbuild';

const SUITE_TIMEOUT_MS = 20 * 60_000;

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const listArg = (flag) => {
  const index = argv.indexOf(flag);
  if (index < 0) return null;
  const value = argv[index + 1];
  if (!value || value.startsWith('--')) {
    console.error(`${flag} needs suite names, e.g. ${flag} sync,search`);
    process.exit(2);
  }
  return value.split(',').map((s) => s.trim());
};
const only = listArg('--only');
const skip = [
  ...(listArg('--skip') ?? []),
  ...(argv.includes('--skip-issue3') ? ['sync', 'search'] : []),
];
const wanted = (name) => (only ? only.includes(name) : true) && !skip.includes(name);

const root = new URL('..', import.meta.url).pathname;
const loadBefore = loadavg();
const results = [];
const failed = (suite, error) =>
  results.push({
    suite,
    name: `suite ${suite} failed: ${String(error).split('\n')[0].slice(0, 300)}`,
    value: null,
    unit: '',
    goal: 'runs',
    met: false,
    error: String(error).slice(0, 2000),
  });

execFileSync(process.execPath, [join(root, 'tools/build.mjs')], { stdio: 'inherit' });

/**
 * A fixed CPU-bound workload, timed before the suites, so that runs on different machines (or the
 * same machine at a busier hour) can be set side by side: JSON out and back for 100,000 rows shaped
 * like synced numbers, one thread, median of 5.
 */
function cpuReferenceMs() {
  const rows = Array.from({ length: 100_000 }, (_, n) => ({
    e164: `+1415${String(n).padStart(7, '0')}`,
    carrier_ref: `2${String(n).padStart(18, '0')}`,
    country: 'US',
    number_type: 'local',
    features: ['voice', 'sms'],
  }));
  const times = Array.from({ length: 5 }, () => {
    const start = process.hrtime.bigint();
    if (JSON.parse(JSON.stringify(rows)).length !== rows.length) throw new Error('reference');
    return Number(process.hrtime.bigint() - start) / 1e6;
  });
  return times.sort((a, b) => a - b)[2];
}
const referenceMs = cpuReferenceMs();

if (wanted('cli')) {
  const bin = join(root, 'bin/switchboard.js');
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const env = { PATH: process.env.PATH, HOME: dir, SWITCHBOARD_DATA_DIR: join(dir, 'data') };
  const time = (args) => {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, [bin, ...args], { env, stdio: 'ignore' });
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  try {
    const help = median(Array.from({ length: 10 }, () => time(['--help'])));
    results.push({
      suite: 'cli',
      name: 'CLI `--help`, median of 10 runs',
      value: help,
      unit: 'ms',
      goal: '< 1000 ms',
      met: help < 1000,
    });
    results.push({
      suite: 'cli',
      name: 'first command on a new embedded store (creates the database)',
      value: time(['search', '415']),
      unit: 'ms',
      goal: 'informational',
      met: null,
    });
    results.push({
      suite: 'cli',
      name: '`search 415` on an existing embedded store, median of 5',
      value: median(Array.from({ length: 5 }, () => time(['search', '415']))),
      unit: 'ms',
      goal: 'informational',
      met: null,
    });
  } catch (error) {
    failed('cli', error);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one bundled suite in its own process; resolves with its rows or a failed row. */
function runSuite(mainJs, name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mainJs, name], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => {
      err += chunk;
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(signal ? `killed by ${signal}` : `exited with ${code}`);
        const rows = JSON.parse(last);
        if (!Array.isArray(rows)) throw new Error('printed no rows');
        resolve(rows.map((row) => ({ suite: name, ...row })));
      } catch (error) {
        const lines = err.trim().split('\n').filter(Boolean);
        const reason = lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? '';
        resolve([{ failure: `${error.message}${reason ? `: ${reason}` : ''}`, stderr: err }]);
      }
    });
  });
}

const cache = join(root, 'node_modules/.cache/');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'switchboard-bench-'));
try {
  await build({
    entryPoints: {
      main: join(root, 'tools/bench/main.ts'),
      'sync-child': join(root, 'tools/bench/sync-child.ts'),
    },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const names = JSON.parse(
    execFileSync(process.execPath, [join(out, 'main.js'), '--list'], { encoding: 'utf8' }),
  );
  const unknown = [...(only ?? []), ...skip].filter((n) => n !== 'cli' && !names.includes(n));
  if (unknown.length > 0) {
    console.error(`bench: unknown suite ${unknown.join(', ')}. Suites: cli, ${names.join(', ')}`);
    process.exit(2);
  }
  for (const name of names.filter(wanted)) {
    process.stderr.write(`bench: suite ${name}\n`);
    const rows = await runSuite(join(out, 'main.js'), name);
    if (rows[0]?.failure) failed(name, rows[0].failure);
    else results.push(...rows);
  }
} catch (error) {
  failed('bundle', error);
} finally {
  rmSync(out, { recursive: true, force: true });
}

const machine = {
  node: process.version,
  cpus: cpus().length,
  cpuReferenceMs: +referenceMs.toFixed(1),
  loadAverage: {
    before: loadBefore.map((l) => +l.toFixed(2)),
    after: loadavg().map((l) => +l.toFixed(2)),
  },
};
if (json) {
  console.log(JSON.stringify({ machine, results }, null, 2));
} else {
  const figure = (r) =>
    r.value === null || !Number.isFinite(r.value)
      ? 'error'
      : r.unit === '×'
        ? `${r.value.toFixed(r.digits ?? 2)}×`
        : `${r.value.toFixed(r.digits ?? 0)} ${r.unit}`;
  const rows = results.map((r) => [
    r.suite,
    r.name,
    figure(r),
    r.goal,
    r.met === null ? '-' : r.met ? 'met' : 'NOT met',
  ]);
  const head = ['suite', 'benchmark', 'figure', 'goal', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(head));
  for (const row of rows) console.log(line(row));
  console.log(
    `\n${machine.cpus} CPUs, Node ${machine.node}; load average (1 min) ${machine.loadAverage.before[0]} before, ${machine.loadAverage.after[0]} after: figures from a busy machine are slower.` +
      `\nCPU reference (JSON out and back for 100,000 rows, one thread): ${machine.cpuReferenceMs} ms; a slower machine scales every figure but the API floor.`,
  );
}
process.exit(results.some((r) => r.goal === 'runs' && r.met === false) ? 1 : 0);
