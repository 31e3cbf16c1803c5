/** Deps for tests: a real store, the sandbox carrier and agents in memory, a settable clock. */
import type { Deps, Policy, Store } from '../../src/core/ports.js';
import { randomIds } from '../../src/core/ids.js';
import { createSandboxCarrier } from '../../src/carriers/sandbox-carrier.js';
import type { SandboxCarrier, SandboxCarrierOptions } from '../../src/carriers/sandbox-carrier.js';
import { createSandboxAgents } from '../../src/agents/sandbox-agents.js';
import type { SandboxVoiceAgents } from '../../src/agents/sandbox-agents.js';
import type { Actor } from '../../src/core/types.js';

export const ALICE: Actor = { id: 'U01ALICE', surface: 'cli' };
export const BOB: Actor = { id: 'U01BOB', surface: 'cli' };
export const CAROL: Actor = { id: 'U01CAROL', surface: 'cli' };
export const ADMIN: Actor = { id: 'U01ADMIN', surface: 'cli' };

export const defaultPolicy: Policy = {
  approvers: ['U01BOB'],
  admins: ['U01ADMIN'],
  allowSelfApproval: false,
  autoApproveUnderMonthly: null,
  memberNumberCap: null,
  monthlyBudget: null,
  requestTtlMinutes: 60,
  quoteTtlMinutes: 30,
};

export interface TestDeps extends Deps {
  sandbox: SandboxCarrier;
  retell: SandboxVoiceAgents;
  vapi: SandboxVoiceAgents;
  setNow(date: Date): void;
}

export function makeDeps(
  store: Store,
  options: { policy?: Partial<Policy>; carrier?: SandboxCarrierOptions } = {},
): TestDeps {
  const sandbox = createSandboxCarrier(options.carrier);
  const retell = createSandboxAgents('retell');
  const vapi = createSandboxAgents('vapi');
  let now: Date | null = null;
  return {
    store,
    carriers: { sandbox },
    agents: { retell, vapi },
    policy: { ...defaultPolicy, ...options.policy },
    clock: { now: () => now ?? new Date() },
    ids: randomIds,
    sandbox,
    retell,
    vapi,
    setNow: (date) => {
      now = date;
    },
  };
}
