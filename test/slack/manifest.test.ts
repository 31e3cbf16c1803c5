/* eslint-disable @typescript-eslint/no-explicit-any -- Slack payloads are loosely typed JSON in assertions */
/** tools/check-manifest.mjs: passes on the real manifest, fails when it lacks what the code registers. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const real = () => parse(readFileSync('manifest.yml', 'utf8')) as Record<string, any>;

function check(manifest: unknown): { status: number | null; output: string } {
  const path = join(dir, `m-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, stringify(manifest));
  const run = spawnSync(process.execPath, ['tools/check-manifest.mjs', path], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('tools/check-manifest.mjs', () => {
  it('passes on the shipped manifest.yml', () => {
    const out = execFileSync(process.execPath, ['tools/check-manifest.mjs'], { encoding: 'utf8' });
    expect(out).toContain('matches the code');
  });

  it('fails when the /number command is missing', () => {
    const m = real();
    m.features.slash_commands = [];
    const result = check(m);
    expect(result.status).toBe(1);
    expect(result.output).toContain('features.slash_commands has no /number');
  });

  it('fails when the usage hint leaves out a verb', () => {
    const m = real();
    m.features.slash_commands[0].usage_hint = 'search 415 | buy 415';
    const result = check(m);
    expect(result.status).toBe(1);
    expect(result.output).toContain('usage_hint does not mention "claim"');
  });

  it('fails when interactivity (buttons, modal) is off or an event is not subscribed', () => {
    const m = real();
    m.settings.interactivity.is_enabled = false;
    m.settings.event_subscriptions.bot_events = [];
    const result = check(m);
    expect(result.status).toBe(1);
    expect(result.output).toContain('settings.interactivity.is_enabled must be true');
    expect(result.output).toContain('sb_approve');
    expect(result.output).toContain('bot_events lacks app_home_opened');
  });

  it('fails on a missing scope and on a scope the code does not need', () => {
    const m = real();
    m.oauth_config.scopes.bot = ['commands', 'chat:write', 'users:read'];
    const result = check(m);
    expect(result.status).toBe(1);
    expect(result.output).toContain('oauth_config.scopes.bot lacks im:write');
    expect(result.output).toContain('users:read, which the code does not need');
  });
});
