/**
 * The composition root: builds `Deps` from configuration. Entry points (the CLI, `serve`, `mcp`)
 * call `openApp`; tests build their own Deps from sandbox adapters. Store modules and vendor SDKs
 * are imported only when configuration asks for them, so a command starts fast.
 */
import { join, resolve } from 'node:path';
import type { Config } from './config/config.js';
import { randomIds } from './core/ids.js';
import type { Carrier, Deps, Store, VoiceAgents } from './core/ports.js';
import type { CarrierName, Platform } from './core/types.js';
import { createSandboxCarrier } from './carriers/sandbox-carrier.js';
import { createSandboxAgents } from './agents/sandbox-agents.js';

export interface App {
  config: Config;
  deps: Deps;
  /** "embedded (./.switchboard)", "postgres (host/db)" — for messages, never with a password. */
  storeLabel: string;
  close(): Promise<void>;
}

export async function openStore(config: Config): Promise<{ store: Store; label: string }> {
  if (config.databaseUrl) {
    const { openPostgresStore } = await import('./store/postgres-store.js');
    const store = await openPostgresStore({ url: config.databaseUrl });
    const url = new URL(config.databaseUrl);
    return { store, label: `postgres (${url.hostname}${url.pathname})` };
  }
  // Supabase's REST API through supabase-js (issue 7). DATABASE_URL, when also set, wins above:
  // a direct connection can do everything the API can, and migrate too.
  if (config.env.SUPABASE_URL && config.env.SUPABASE_SERVICE_ROLE_KEY) {
    const { openSupabaseStore } = await import('./store/supabase-store.js');
    const store = await openSupabaseStore({
      url: config.env.SUPABASE_URL,
      serviceRoleKey: config.env.SUPABASE_SERVICE_ROLE_KEY,
    });
    return { store, label: `supabase (${new URL(config.env.SUPABASE_URL).host})` };
  }
  const { openPgliteStore } = await import('./store/pglite-store.js');
  const dir = resolve(config.dataDir);
  return { store: await openPgliteStore({ dataDir: dir }), label: `embedded (${config.dataDir})` };
}

/**
 * The carriers the configuration names; the sandbox only when no carrier key is set, so that
 * someone with real keys never gets pretend numbers. Vendor SDKs load only when configured.
 */
export async function buildCarriers(
  config: Config,
): Promise<Partial<Record<CarrierName, Carrier>>> {
  const env = config.env;
  const carriers: Partial<Record<CarrierName, Carrier>> = {};
  if (env.TELNYX_API_KEY) {
    const { createTelnyxCarrier } = await import('./carriers/telnyx-carrier.js');
    carriers.telnyx = createTelnyxCarrier({
      apiKey: env.TELNYX_API_KEY,
      ...(env.TELNYX_BASE_URL ? { baseUrl: env.TELNYX_BASE_URL } : {}),
      ...(env.TELNYX_CONNECTION_ID ? { connectionId: env.TELNYX_CONNECTION_ID } : {}),
      ...(env.TELNYX_MESSAGING_PROFILE_ID
        ? { messagingProfileId: env.TELNYX_MESSAGING_PROFILE_ID }
        : {}),
    });
  }
  if (env.TWILIO_ACCOUNT_SID) {
    const { createTwilioCarrier } = await import('./carriers/twilio-carrier.js');
    carriers.twilio = createTwilioCarrier({
      accountSid: env.TWILIO_ACCOUNT_SID,
      ...(env.TWILIO_AUTH_TOKEN ? { authToken: env.TWILIO_AUTH_TOKEN } : {}),
      ...(env.TWILIO_API_KEY ? { apiKey: env.TWILIO_API_KEY } : {}),
      ...(env.TWILIO_API_SECRET ? { apiSecret: env.TWILIO_API_SECRET } : {}),
      ...(env.TWILIO_BASE_URL ? { baseUrl: env.TWILIO_BASE_URL } : {}),
      ...(env.TWILIO_TRUNK_SID ? { trunkSid: env.TWILIO_TRUNK_SID } : {}),
    });
  }
  if (Object.keys(carriers).length === 0) {
    const { latencyMs, faultRate, seed } = config.sandbox;
    carriers.sandbox = createSandboxCarrier({
      statePath: join(resolve(config.dataDir), 'sandbox-carrier.json'),
      latencyMs,
      faultRate,
      seed,
    });
  }
  return carriers;
}

/** Retell and VAPI when their keys are set; otherwise the sandbox platforms, labelled as such. */
export async function buildAgents(config: Config): Promise<Partial<Record<Platform, VoiceAgents>>> {
  const env = config.env;
  const agents: Partial<Record<Platform, VoiceAgents>> = {};
  const { latencyMs, faultRate, seed } = config.sandbox;
  if (env.RETELL_API_KEY) {
    const { createRetellAgents } = await import('./agents/retell-agents.js');
    agents.retell = createRetellAgents({
      apiKey: env.RETELL_API_KEY,
      ...(env.RETELL_BASE_URL ? { baseUrl: env.RETELL_BASE_URL } : {}),
      ...(env.RETELL_TERMINATION_URI ? { terminationUri: env.RETELL_TERMINATION_URI } : {}),
      ...(env.RETELL_SIP_USERNAME ? { sipUsername: env.RETELL_SIP_USERNAME } : {}),
      ...(env.RETELL_SIP_PASSWORD ? { sipPassword: env.RETELL_SIP_PASSWORD } : {}),
    });
  }
  if (env.VAPI_API_KEY) {
    const { createVapiAgents } = await import('./agents/vapi-agents.js');
    agents.vapi = createVapiAgents({
      apiKey: env.VAPI_API_KEY,
      ...(env.VAPI_BASE_URL ? { baseUrl: env.VAPI_BASE_URL } : {}),
      ...(env.VAPI_TELNYX_CREDENTIAL_ID
        ? { telnyxCredentialId: env.VAPI_TELNYX_CREDENTIAL_ID }
        : {}),
      ...(env.TWILIO_ACCOUNT_SID
        ? {
            twilio: {
              accountSid: env.TWILIO_ACCOUNT_SID,
              ...(env.TWILIO_AUTH_TOKEN ? { authToken: env.TWILIO_AUTH_TOKEN } : {}),
              ...(env.TWILIO_API_KEY ? { apiKey: env.TWILIO_API_KEY } : {}),
              ...(env.TWILIO_API_SECRET ? { apiSecret: env.TWILIO_API_SECRET } : {}),
            },
          }
        : {}),
    });
  }
  for (const platform of ['retell', 'vapi'] as const) {
    agents[platform] ??= createSandboxAgents(platform, {
      statePath: join(resolve(config.dataDir), `sandbox-${platform}.json`),
      latencyMs,
      faultRate,
      seed,
    });
  }
  return agents;
}

export async function openApp(config: Config): Promise<App> {
  const carriers = await buildCarriers(config);
  const agents = await buildAgents(config);
  const { store, label } = await openStore(config);
  try {
    // The members table mirrors the configured roles, for people who read the data directly.
    const { approvers, admins } = config.policy;
    for (const id of new Set([...approvers, ...admins])) {
      const roles = [
        ...(approvers.includes(id) ? (['approver'] as const) : []),
        ...(admins.includes(id) ? (['admin'] as const) : []),
      ];
      const member = await store.getMember(id);
      if (!member || member.roles.join() !== roles.join()) await store.setMemberRoles(id, roles);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const deps: Deps = {
    store,
    carriers,
    agents,
    policy: config.policy,
    clock: { now: () => new Date() },
    ids: randomIds,
  };
  return { config, deps, storeLabel: label, close: () => store.close() };
}
