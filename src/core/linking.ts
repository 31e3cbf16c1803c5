/**
 * Linking numbers to voice agents, shared by `link`, `unlink`, `release --unlink` and the link step
 * of `provision`. Our record changes only after the platform has confirmed; when the platform
 * fails, the number stays as it was and the error says so.
 */
import { CoreError } from './errors.js';
import type { Deps, VoiceAgents } from './ports.js';
import type { NumberRecord, Platform } from './types.js';

export interface AgentRef {
  platform: Platform;
  agentId: string;
}

/** "retell:agent_1" → { platform: 'retell', agentId: 'agent_1' } (the input schema checked the form). */
export function parseAgent(text: string): AgentRef {
  const [platform, ...rest] = text.split(':');
  return { platform: platform as Platform, agentId: rest.join(':') };
}

export function platformFor(deps: Deps, platform: Platform): VoiceAgents {
  const agents = deps.agents[platform];
  if (!agents) {
    throw new CoreError(
      'UNAVAILABLE',
      `${platform} is not configured: set ${platform === 'retell' ? 'RETELL_API_KEY' : 'VAPI_API_KEY'}.`,
    );
  }
  return agents;
}

/** Checks that the agent exists before anything depends on it. */
export async function resolveAgent(deps: Deps, text: string): Promise<AgentRef & { name: string }> {
  const ref = parseAgent(text);
  const agent = await platformFor(deps, ref.platform).getAgent(ref.agentId);
  if (!agent)
    throw new CoreError(
      'NOT_FOUND',
      `${ref.platform} has no agent ${ref.agentId}. See the agents with: agents`,
    );
  return { ...ref, name: agent.name };
}

export async function unlinkAtPlatform(deps: Deps, number: NumberRecord): Promise<NumberRecord> {
  const link = number.agent;
  if (!link) return number;
  const platform = deps.agents[link.platform];
  if (!platform) {
    throw new CoreError(
      'UNAVAILABLE',
      `${number.e164} is linked on ${link.platform}, which is not configured here; it stays linked.`,
    );
  }
  try {
    await platform.unlink(number, link.ref);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CoreError(
      'UPSTREAM',
      `${link.platform} did not unlink ${number.e164} (${message}); it stays linked to ${link.agentId}. Try again.`,
      { cause: error },
    );
  }
  const outcome = await deps.store.unlinkNumber(number.id, deps.clock.now());
  return outcome.status === 'unlinked' ? outcome.number : number;
}

/**
 * Points the number at the agent (checked to exist), moving it off another platform first. The
 * caller has checked that the actor may manage the number.
 */
export async function linkToAgent(
  deps: Deps,
  number: NumberRecord,
  agentText: string,
): Promise<{ number: NumberRecord; changed: boolean; movedFrom: string | null }> {
  if (number.status === 'missing')
    throw new CoreError(
      'CONFLICT',
      `${number.e164} is missing from the carrier account; it cannot be linked.`,
    );
  const { platform, agentId } = parseAgent(agentText);
  const agents = platformFor(deps, platform);
  if (number.agent?.platform === platform && number.agent.agentId === agentId)
    return { number, changed: false, movedFrom: null };
  // The agent that stops getting the number's calls, said back to whoever moved it.
  const movedFrom = number.agent ? `${number.agent.platform}:${number.agent.agentId}` : null;
  await resolveAgent(deps, agentText);
  let current = number;
  // One number links to at most one agent: moving platforms unlinks the old one first.
  if (current.agent && current.agent.platform !== platform)
    current = await unlinkAtPlatform(deps, current);
  let ref: string | null;
  try {
    ({ ref } = await agents.link(current, agentId, current.agent?.ref ?? null));
  } catch (error) {
    if (error instanceof CoreError) throw error;
    throw new CoreError(
      'UPSTREAM',
      `${platform} did not link ${number.e164}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const outcome = await deps.store.linkNumber(current.id, platform, agentId, ref, deps.clock.now());
  if (outcome.status !== 'linked')
    throw new CoreError(
      'CONFLICT',
      `${number.e164} changed while linking it; check it with: show ${number.e164}`,
    );
  return { number: outcome.number, changed: true, movedFrom };
}
