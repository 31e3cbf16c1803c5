/**
 * The Telnyx error table's messages when Telnyx's own detail already ends with a full stop (as
 * its "The API key you provided is invalid." does): one stop, then the advice.
 */
import { APIError } from 'telnyx';
import { describe, expect, it } from 'vitest';
import { toCoreError } from '../../src/carriers/telnyx-errors.js';

const KEY = 'KEY_TEST_FAKE_TELNYX';

function telnyxError(status: number, detail: string): APIError {
  return APIError.generate(
    status,
    { errors: [{ code: '10009', title: 'Some title', detail }] },
    undefined,
    new Headers(),
  );
}

describe('telnyx toCoreError', () => {
  it("a refused key: Telnyx's sentence, one stop, then Check TELNYX_API_KEY", () => {
    const error = toCoreError(
      telnyxError(401, 'The API key you provided is invalid.'),
      "page 1 of the account's numbers",
      KEY,
    );
    expect(error).toMatchObject({ code: 'UPSTREAM', vendorCode: '10009' });
    expect(error.message).toBe(
      "Telnyx refused page 1 of the account's numbers: The API key you provided is invalid. Check TELNYX_API_KEY.",
    );
  });

  it('a refused key whose detail has no stop gets one', () => {
    const error = toCoreError(telnyxError(403, 'Forbidden'), 'the search', KEY);
    expect(error.message).toBe('Telnyx refused the search: Forbidden. Check TELNYX_API_KEY.');
  });

  it('rate limiting: one stop before Try again in a minute', () => {
    const error = toCoreError(telnyxError(429, 'Too many requests.'), 'the search', KEY);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(error.message).toBe(
      'Telnyx is rate limiting the search: Too many requests. Try again in a minute.',
    );
  });
});
