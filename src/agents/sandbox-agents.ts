/**
 * The sandbox voice-agent platforms: pretend Retell agents and VAPI assistants to link numbers to,
 * used for a platform whose API key is not configured. Every agent says `sandbox: true`.
 */
import { CoreError } from '../core/errors.js';
import type { Agent, VoiceAgents } from '../core/ports.js';
import type { Platform } from '../core/types.js';
import type { FaultOptions } from '../sandbox/faults.js';
import { FaultInjector } from '../sandbox/faults.js';
import { StateFile } from '../sandbox/state-file.js';
import { crashPoint } from '../sandbox/crash.js';

export const SANDBOX_AGENTS: Record<Platform, Array<{ id: string; name: string }>> = {
  retell: [
    { id: 'agent_sandbox_support', name: 'Support line (sandbox)' },
    { id: 'agent_sandbox_sales', name: 'Sales desk (sandbox)' },
    { id: 'agent_sandbox_booking', name: 'Appointment booking (sandbox)' },
  ],
  vapi: [
    { id: 'asst_sandbox_reception', name: 'Front desk receptionist (sandbox)' },
    { id: 'asst_sandbox_survey', name: 'Customer survey (sandbox)' },
  ],
};

export interface SandboxAgentsState {
  /** e164 -> the link the platform holds for it. */
  links: Record<string, { agentId: string; ref: string }>;
  sequence: number;
}

export interface SandboxAgentsOptions extends FaultOptions {
  statePath?: string;
}

export interface SandboxVoiceAgents extends VoiceAgents {
  readonly faults: FaultInjector;
  state(): SandboxAgentsState;
}

export function createSandboxAgents(
  platform: Platform,
  options: SandboxAgentsOptions = {},
): SandboxVoiceAgents {
  const store = new StateFile<SandboxAgentsState>(options.statePath, () => ({
    links: {},
    sequence: 0,
  }));
  const faults = new FaultInjector(`sandbox ${platform}`, options);
  const agents: Agent[] = SANDBOX_AGENTS[platform].map((agent) => ({
    ...agent,
    platform,
    sandbox: true,
  }));

  async function enter(operation: string): Promise<void> {
    await faults.delay();
    const fault = faults.draw(['rate_limit', 'server_error', 'timeout', 'malformed'], operation);
    if (fault && fault !== 'pending') throw faults.error(fault, operation);
  }

  return {
    platform,
    sandbox: true,
    faults,
    state: () => store.get(),
    async listAgents() {
      await enter('list agents');
      return agents;
    },
    async getAgent(id) {
      await enter('get agent');
      return agents.find((agent) => agent.id === id) ?? null;
    },
    async link(number, agentId) {
      await enter('link');
      if (!agents.some((agent) => agent.id === agentId)) {
        throw new CoreError('NOT_FOUND', `sandbox ${platform} has no agent ${agentId}`);
      }
      crashPoint('link:before');
      const linked = await store.update((state) => {
        const existing = state.links[number.e164];
        const ref = existing?.ref ?? `sbx-${platform}-${++state.sequence}`;
        state.links[number.e164] = { agentId, ref };
        return { ref };
      });
      crashPoint('link:after');
      return linked;
    },
    async unlink(number) {
      await enter('unlink');
      await store.update((state) => void delete state.links[number.e164]);
      crashPoint('unlink:after');
    },
  };
}
