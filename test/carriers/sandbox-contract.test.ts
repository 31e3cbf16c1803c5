/** The sandbox passes the same contracts the real carriers and platforms must pass. */
import { describeCarrierContract } from '../contracts/carrier-contract.js';
import { describeAgentsContract } from '../contracts/agents-contract.js';
import { createSandboxCarrier } from '../../src/carriers/sandbox-carrier.js';
import { createSandboxAgents } from '../../src/agents/sandbox-agents.js';

describeCarrierContract('sandbox', async () => {
  const carrier = createSandboxCarrier({ pageSize: 2 });
  return {
    carrier,
    areaCode: '415',
    country: 'US',
    takeElsewhere: (e164) => carrier.takeElsewhere(e164),
  };
});

for (const platform of ['retell', 'vapi'] as const) {
  describeAgentsContract(`sandbox ${platform}`, async () => ({
    agents: createSandboxAgents(platform),
    number: { e164: '+14155550142', carrier: 'sandbox', carrierRef: 'sbx-pn-1' },
  }));
}
