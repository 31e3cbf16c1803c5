/**
 * Runs the real CLI (`main` and the real composition root) as its own process, for tests that
 * kill it. The driver (crash-driver.ts) is bundled once per test file into node_modules/, so that
 * its packages resolve and a concurrent `npm run build` of dist/ cannot pull it from under a test.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

export interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export async function bundleDriver(): Promise<string> {
  const dir = join(ROOT, 'node_modules/.switchboard-proof');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `crash-driver-${process.pid}.mjs`);
  await build({
    entryPoints: [join(ROOT, 'test/proof/crash-driver.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}

export async function runCli(
  driver: string,
  env: Record<string, string>,
  args: string[],
): Promise<CliRun> {
  const fullEnv = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env };
  try {
    const { stdout, stderr } = await exec(process.execPath, [driver, ...args], {
      env: fullEnv,
      cwd: env.HOME ?? ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, signal: null, stdout, stderr };
  } catch (error) {
    const e = error as {
      code: number | null;
      signal: string | null;
      stdout: string;
      stderr: string;
    };
    return {
      code: e.code,
      signal: e.signal ?? null,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(error),
    };
  }
}
