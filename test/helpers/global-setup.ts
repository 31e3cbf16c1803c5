/**
 * Runs once before the test files: builds the CLI bundle (the CLI tests run the real
 * `switchboard` command) and makes one migrated PGlite database image that every test database
 * starts from, instead of initialising PostgreSQL-in-WebAssembly for each test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { wrapPglite } from '../../src/store/pglite-store.js';
import { migrate } from '../../src/store/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  execFileSync(process.execPath, ['tools/build.mjs'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-template-'));
  const path = join(dir, 'template.tar.gz');
  const db = await PGlite.create();
  await migrate(wrapPglite(db, db));
  const image = await db.dumpDataDir('gzip');
  writeFileSync(path, Buffer.from(await image.arrayBuffer()));
  await db.close();
  project.provide('pgliteTemplate', path);
  if (!process.env.TEST_DATABASE_URL) {
    console.log(
      '\nTEST_DATABASE_URL is not set: the PostgreSQL runs of the store contract and race tests are SKIPPED (the PGlite runs always run).\nSet it to run them, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test\n',
    );
  }
  return () => rmSync(dir, { recursive: true, force: true });
}
