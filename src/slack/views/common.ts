/** Wording shared by the Slack views. */
import { formatMoney } from '../../core/money.js';
import { formatNumber } from '../../core/phone.js';
import type { CarrierName } from '../../core/types.js';
import { esc } from './blocks.js';

export const place = (n: {
  locality: string | null;
  region: string | null;
  country?: string | null;
}) => [n.locality, n.region].filter(Boolean).join(', ') || n.country || '';

export const carrierLabel = (carrier: CarrierName) =>
  carrier === 'sandbox' ? 'sandbox (pretend)' : carrier;

export const price = (p: { monthlyCost: number; upfrontCost: number; currency: string }) =>
  `${formatMoney(p.monthlyCost, p.currency)}/mo + ${formatMoney(p.upfrontCost, p.currency)} upfront`;

export const phone = (e164: string) => `*${esc(formatNumber(e164))}*`;

export const SANDBOX_NOTE =
  ':test_tube: *Sandbox carrier*: pretend numbers for trying Switchboard; nothing is really bought. An admin sets TELNYX_API_KEY or TWILIO_ACCOUNT_SID for real numbers.';
