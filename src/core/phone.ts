import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import { CoreError } from './errors.js';

/**
 * Normalises user text to E.164 ("+14155550123"). Accepts common spellings: "+1 (415) 555-0123",
 * "1-415-555-0123", "4155550123" (taken as North American). Throws INVALID_INPUT with an example.
 */
export function toE164(text: string): string {
  const parsed = parseE164(text);
  if (!parsed) {
    throw new CoreError(
      'INVALID_INPUT',
      `"${text}" is not a phone number. Give it in E.164 form, e.g. +14155550123.`,
    );
  }
  return parsed;
}

export function parseE164(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || /[a-z]/i.test(trimmed)) return undefined;
  const number = parsePhoneNumberFromString(trimmed, trimmed.startsWith('+') ? undefined : 'US');
  // libphonenumber's "possible" check is about length; full validity also rejects unassigned
  // ranges. 555-01XX numbers (fictional, used by the sandbox) are valid NANP numbers.
  if (!number || !number.isPossible()) return undefined;
  return number.number;
}

/** The area code (NPA) of a North American number, or undefined elsewhere. */
export function nanpAreaCode(e164: string): string | undefined {
  return /^\+1([2-9]\d{2})\d{7}$/.exec(e164)?.[1];
}

export function countryOf(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

/** Formats for people: "+1 415 555 0123". */
export function formatNumber(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}

/** A zod type that accepts common spellings and yields E.164, with a message that shows the form. */
export const E164 = z.string().transform((value, ctx) => {
  const parsed = parseE164(value);
  if (!parsed) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a phone number; give it in E.164 form, e.g. +14155550123`,
    });
    return z.NEVER;
  }
  return parsed;
});
