import { z } from 'zod';
import { defineCommand } from '../command.js';
import { CoreError } from '../errors.js';
import type { Agent, VoiceAgents } from '../ports.js';
import { joinSentences, withoutFullStop } from '../sentences.js';
import type { Platform } from '../types.js';
import { PLATFORMS } from '../types.js';

export const agents = defineCommand({
  name: 'agents',
  summary: 'List the voice agents numbers can be linked to, across configured platforms',
  effect: 'read',
  usage: 'agents [retell|vapi]',
  examples: ['agents', 'agents retell'],
  args: [{ name: 'platform' }],
  input: z.object({
    platform: z.enum(PLATFORMS).optional().describe('Only this platform: retell or vapi'),
  }),
  async run(
    ctx,
    input,
  ): Promise<{ agents: Agent[]; skipped: Array<{ platform: Platform; reason: string }> }> {
    const platforms = Object.values(ctx.deps.agents).filter(
      (p): p is VoiceAgents =>
        p !== undefined && (!input.platform || p.platform === input.platform),
    );
    const settled = await Promise.allSettled(platforms.map((p) => p.listAgents()));
    const found: Agent[] = [];
    const skipped: Array<{ platform: Platform; reason: string }> = [];
    settled.forEach((result, index) => {
      const platform = platforms[index] as VoiceAgents;
      if (result.status === 'fulfilled') found.push(...result.value);
      else
        skipped.push({
          platform: platform.platform,
          reason: result.reason instanceof Error ? result.reason.message : String(result.reason),
        });
    });
    // Every platform failing is a failure, not an empty list (exit 5 in the CLI, an error over MCP).
    if (platforms.length > 0 && skipped.length === platforms.length) {
      throw new CoreError(
        'UPSTREAM',
        joinSentences(
          `Every voice platform failed: ${skipped.map((s) => `${s.platform}: ${withoutFullStop(s.reason)}`).join('; ')}`,
          'Try again in a minute.',
        ),
      );
    }
    return { agents: found, skipped };
  },
});
