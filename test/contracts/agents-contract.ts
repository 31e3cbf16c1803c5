/**
 * The voice-agent contract: what every VoiceAgents adapter must do. Runs against the sandbox here
 * and against Retell and VAPI (on their scenario servers) in their own tests.
 */
import { describe, expect, it } from 'vitest';
import type { VoiceAgents } from '../../src/core/ports.js';

export interface AgentsContractSetup {
  agents: VoiceAgents;
  /** A number the platform can link (for Retell: importable with the configured termination URI). */
  number: { e164: string; carrier: 'telnyx' | 'twilio' | 'sandbox'; carrierRef: string | null };
  close?(): Promise<void>;
}

export function describeAgentsContract(
  name: string,
  make: () => Promise<AgentsContractSetup>,
): void {
  describe(`voice-agent contract: ${name}`, () => {
    const withAgents = async (fn: (setup: AgentsContractSetup) => Promise<void>) => {
      const setup = await make();
      try {
        await fn(setup);
      } finally {
        await setup.close?.();
      }
    };

    it('lists agents, each findable by id; an unknown id is null', () =>
      withAgents(async ({ agents }) => {
        const list = await agents.listAgents();
        expect(list.length).toBeGreaterThan(0);
        for (const agent of list) {
          expect(agent.platform).toBe(agents.platform);
          expect(agent.id).not.toBe('');
        }
        const first = list[0]!;
        expect(await agents.getAgent(first.id)).toMatchObject({
          id: first.id,
          platform: agents.platform,
        });
        expect(await agents.getAgent('agent_does_not_exist_0000')).toBeNull();
      }));

    it('links, relinks to another agent with the same ref, and unlinks', () =>
      withAgents(async ({ agents, number }) => {
        const list = await agents.listAgents();
        const [first, second] = [list[0]!, list[1] ?? list[0]!];
        const linked = await agents.link(number, first.id, null);
        const relinked = await agents.link(number, second.id, linked.ref);
        expect(relinked.ref).toBe(linked.ref);
        await expect(agents.unlink(number, relinked.ref)).resolves.toBeUndefined();
      }));
  });
}
