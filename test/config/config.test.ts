import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAgents, buildCarriers } from '../../src/app.js';
import { SECRET_VARIABLES, loadConfig, mask } from '../../src/config/config.js';
import { capturedLogger } from '../helpers/logs.js';
import { RETELL_TEST_KEY, startRetellScenarioServer } from '../helpers/retell-scenario-server.js';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('has safe defaults: embedded store, no approvers, self-approval and auto-approve off', () => {
    const config = loadConfig({});
    expect(config.dataDir).toBe('./.switchboard');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.policy).toMatchObject({
      approvers: [],
      admins: [],
      allowSelfApproval: false,
      autoApproveUnderMonthly: null,
      memberNumberCap: null,
      monthlyBudget: null,
      requestTtlMinutes: 1440,
    });
  });

  it('parses lists and numbers', () => {
    const config = loadConfig({
      SWITCHBOARD_APPROVERS: 'U01BOB, U01DAN',
      SWITCHBOARD_MONTHLY_BUDGET: '250',
      SWITCHBOARD_ALLOW_SELF_APPROVAL: 'yes',
    });
    expect(config.policy).toMatchObject({
      approvers: ['U01BOB', 'U01DAN'],
      monthlyBudget: 250,
      allowSelfApproval: true,
    });
  });

  it('reports every problem at once, naming each variable', () => {
    let message = '';
    try {
      loadConfig({
        DATABASE_URL: 'mysql://x',
        SWITCHBOARD_MONTHLY_BUDGET: 'lots',
        TELNYX_BASE_URL: 'not a url',
        PORT: '99999',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['DATABASE_URL', 'SWITCHBOARD_MONTHLY_BUDGET', 'TELNYX_BASE_URL', 'PORT'])
      expect(message).toContain(name);
  });

  it('refuses half-configured Twilio and Supabase', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}` })).toThrow(
      /TWILIO_AUTH_TOKEN/,
    );
    expect(() => loadConfig({ SUPABASE_URL: 'https://x.supabase.co' })).toThrow(/go together/);
  });
});

describe('composition root', () => {
  it('uses the sandbox carrier and platforms when no keys are set', async () => {
    const config = loadConfig({ SWITCHBOARD_DATA_DIR: dir });
    expect(Object.keys(await buildCarriers(config))).toEqual(['sandbox']);
    const agents = await buildAgents(config);
    expect([agents.retell?.sandbox, agents.vapi?.sandbox]).toEqual([true, true]);
  });

  it('uses Telnyx, never the sandbox, when a Telnyx key is set', async () => {
    const carriers = await buildCarriers(
      loadConfig({
        SWITCHBOARD_DATA_DIR: dir,
        TELNYX_API_KEY: 'KEY_TEST_FAKE_TELNYX',
        TELNYX_BASE_URL: 'http://127.0.0.1:9/v2',
      }),
    );
    expect(Object.keys(carriers)).toEqual(['telnyx']);
    expect(carriers.telnyx?.sandbox).toBe(false);
  });

  it('uses Retell and VAPI adapters when their keys are set', async () => {
    const agents = await buildAgents(
      loadConfig({
        SWITCHBOARD_DATA_DIR: dir,
        RETELL_API_KEY: 'KEY_TEST_FAKE_RETELL',
        VAPI_API_KEY: 'KEY_TEST_FAKE_VAPI',
      }),
    );
    expect([agents.retell?.sandbox, agents.vapi?.sandbox]).toEqual([false, false]);
  });

  it('passes RETELL_TERMINATION_URI and the optional SIP credentials to Retell imports', async () => {
    const server = await startRetellScenarioServer();
    try {
      const agents = await buildAgents(
        loadConfig({
          SWITCHBOARD_DATA_DIR: dir,
          RETELL_API_KEY: RETELL_TEST_KEY,
          RETELL_BASE_URL: server.url,
          RETELL_TERMINATION_URI: 'switchboard-test.pstn.twilio.com',
          RETELL_SIP_USERNAME: 'trunk-user',
          RETELL_SIP_PASSWORD: 'FAKE-SIP-PASSWORD-not-real',
        }),
      );
      await agents.retell!.link(
        {
          e164: '+14155550142',
          carrier: 'twilio',
          carrierRef: 'PN0000000000000000000000000000test',
        },
        'agent_sales_0002',
        null,
      );
      expect(server.requests.find((r) => r.path === '/import-phone-number')?.body).toMatchObject({
        termination_uri: 'switchboard-test.pstn.twilio.com',
        sip_trunk_auth_username: 'trunk-user',
        sip_trunk_auth_password: 'FAKE-SIP-PASSWORD-not-real',
      });
    } finally {
      await server.close();
    }
  });

  it('treats RETELL_SIP_PASSWORD as a secret', () => {
    expect(SECRET_VARIABLES).toContain('RETELL_SIP_PASSWORD');
  });
});

describe('logger', () => {
  it('redacts secrets by key and by value', () => {
    expect(mask('postgres://u:SECRET_VALUE_123@h/db', ['SECRET_VALUE_123'])).toBe(
      'postgres://u:[redacted]@h/db',
    );
    const { logger, lines } = capturedLogger({ secrets: ['KEY_TEST_FAKE_TELNYX'] });
    logger.info(
      { apiKey: 'KEY_TEST_FAKE_TELNYX', headers: { authorization: 'Bearer abc' } },
      'calling with KEY_TEST_FAKE_TELNYX',
    );
    const output = lines.join('');
    expect(output).not.toContain('KEY_TEST_FAKE_TELNYX');
    expect(output).not.toContain('Bearer abc');
    expect(output).toContain('[redacted]');
  });
});
