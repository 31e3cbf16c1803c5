/** zod pieces shared by the command inputs. Every field is described for people and for models. */
import { z } from 'zod';
import { CARRIERS, COUNTRIES, FEATURES, NUMBER_TYPES, PLATFORMS } from './types.js';
import { parseE164 } from './phone.js';

export const PhoneNumberArg = z
  .string()
  .refine((value) => parseE164(value) !== undefined, {
    message: 'give a phone number in E.164 form, e.g. +14155550123',
  })
  .describe('Phone number in E.164 form, e.g. +14155550123');

export const CarrierArg = z.enum(CARRIERS).describe('Carrier: telnyx, twilio or sandbox');
export const NumberTypeArg = z
  .enum(NUMBER_TYPES)
  .default('local')
  .describe('Number type: local, toll-free or mobile (default local)');
export const FeaturesArg = z
  .array(z.enum(FEATURES))
  .default([])
  .describe('Features the number must have, e.g. ["voice","sms"]');
export const CountryArg = z.enum(COUNTRIES).describe('Country: US or CA');
export const ReasonArg = z
  .string()
  .max(500, 'keep the reason under 500 characters')
  .describe('Why, for the approver and the audit trail');
export const AgentArg = z
  .string()
  .regex(
    new RegExp(`^(${PLATFORMS.join('|')}):[A-Za-z0-9_.-]{1,128}$`),
    'give the agent as retell:<agent id> or vapi:<assistant id>',
  )
  .describe('Voice agent as <platform>:<id>, e.g. retell:agent_0123 or vapi:3f2a-…');
export const LimitArg = (fallback: number, max: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .describe(`How many to return (1-${max}, default ${fallback})`);
