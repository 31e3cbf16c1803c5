/**
 * The `accounts` command over the Twilio carrier on its scenario server. The command only needs
 * the policy and the carriers, so the context is built by hand (no store: it writes nothing).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTwilioCarrier } from '../../src/carriers/twilio-carrier.js';
import { createSandboxCarrier } from '../../src/carriers/sandbox-carrier.js';
import type { CommandContext } from '../../src/core/command.js';
import { accounts } from '../../src/core/commands/accounts.js';
import type { Carrier, Deps } from '../../src/core/ports.js';
import type { Actor } from '../../src/core/types.js';
import { ADMIN, ALICE, defaultPolicy } from '../helpers/deps.js';
import {
  TWILIO_TEST_SID,
  TWILIO_TEST_SUBACCOUNT,
  TWILIO_TEST_TOKEN,
  startTwilioScenario,
} from '../helpers/twilio-scenario-server.js';
import type { TwilioScenarioServer } from '../helpers/twilio-scenario-server.js';

describe('accounts command (twilio scenario server)', () => {
  let server: TwilioScenarioServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function context(
    carriers: Partial<Record<'twilio' | 'sandbox', Carrier>>,
    actor: Actor,
  ): CommandContext {
    const deps = { policy: defaultPolicy, carriers } as unknown as Deps;
    return { deps, actor, note: () => undefined };
  }

  async function twilioCarrier() {
    server = await startTwilioScenario();
    return createTwilioCarrier({
      accountSid: TWILIO_TEST_SID,
      authToken: TWILIO_TEST_TOKEN,
      baseUrl: server.url,
    });
  }

  it('lists the account and its subaccounts, for admins only', async () => {
    const ctx = context({ sandbox: createSandboxCarrier(), twilio: await twilioCarrier() }, ADMIN);
    const result = await accounts.run(ctx, accounts.input.parse({ action: 'list' }));
    expect(result.carrier).toBe('twilio');
    expect(result.accounts).toContainEqual({
      sid: TWILIO_TEST_SUBACCOUNT,
      name: 'Support team',
      status: 'active',
    });
    await expect(
      accounts.run(context({ twilio: createSandboxCarrier() }, ALICE), { action: 'list' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('creates a subaccount by name', async () => {
    const ctx = context({ twilio: await twilioCarrier() }, ADMIN);
    const result = await accounts.run(
      ctx,
      accounts.input.parse({ action: 'create', name: 'Sales team' }),
    );
    expect(result.created).toMatchObject({ name: 'Sales team', status: 'active' });
    expect(server!.accounts.has(result.created!.sid)).toBe(true);
  });

  it('needs a name to create, and a carrier with subaccounts', async () => {
    expect(accounts.input.safeParse({ action: 'create' }).success).toBe(false);
    expect(accounts.input.safeParse({ action: 'rename', name: 'x' }).success).toBe(false);
    await expect(
      accounts.run(context({ sandbox: createSandboxCarrier() }, ADMIN), { action: 'list' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
