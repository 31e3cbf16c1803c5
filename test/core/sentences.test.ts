/**
 * joinSentences and withoutFullStop: text from elsewhere (a vendor's message, an inner error's)
 * joined to the next sentence with one full stop, never two.
 */
import { describe, expect, it } from 'vitest';
import { joinSentences, withoutFullStop } from '../../src/core/sentences.js';

describe('joinSentences', () => {
  it('adds the full stop a clause lacks, and keeps the one it has', () => {
    expect(joinSentences('Telnyx refused it: HTTP 401', 'Check TELNYX_API_KEY.')).toBe(
      'Telnyx refused it: HTTP 401. Check TELNYX_API_KEY.',
    );
    expect(
      joinSentences(
        'Telnyx refused it: The API key you provided is invalid.',
        'Check TELNYX_API_KEY.',
      ),
    ).toBe('Telnyx refused it: The API key you provided is invalid. Check TELNYX_API_KEY.');
  });

  it('makes stops, an ellipsis of stops and trailing spaces one full stop', () => {
    expect(joinSentences('invalid..', 'Next.')).toBe('invalid. Next.');
    expect(joinSentences('invalid...', 'Next.')).toBe('invalid. Next.');
    expect(joinSentences('invalid. \n', 'Next.')).toBe('invalid. Next.');
    expect(joinSentences('invalid . ', 'Next.')).toBe('invalid. Next.');
  });

  it('keeps a question or exclamation mark, or an ellipsis character, dropping a stop after it', () => {
    expect(joinSentences('Is the key right?', 'Check it.')).toBe('Is the key right? Check it.');
    expect(joinSentences('Rate limited!', 'Wait.')).toBe('Rate limited! Wait.');
    expect(joinSentences('Rate limited!.', 'Wait.')).toBe('Rate limited! Wait.');
    expect(joinSentences('Waiting…', 'Wait.')).toBe('Waiting… Wait.');
  });

  it('with no next sentence, only ends the clause; with an empty clause, only the next', () => {
    expect(joinSentences('VAPI refused: Bad request.', '')).toBe('VAPI refused: Bad request.');
    expect(joinSentences('VAPI refused: Bad request')).toBe('VAPI refused: Bad request.');
    expect(joinSentences('', 'Try again.')).toBe('Try again.');
    expect(joinSentences(' . ', 'Try again.')).toBe('Try again.');
  });

  it('leaves stops inside the clause alone', () => {
    expect(joinSentences('v1.2 failed. Then 3.4 did', 'Next.')).toBe(
      'v1.2 failed. Then 3.4 did. Next.',
    );
  });
});

describe('withoutFullStop', () => {
  it('drops the closing full stops (and spaces), nothing else', () => {
    expect(withoutFullStop('invalid.')).toBe('invalid');
    expect(withoutFullStop('invalid... ')).toBe('invalid');
    expect(withoutFullStop('invalid')).toBe('invalid');
    expect(withoutFullStop('why?')).toBe('why?');
    expect(withoutFullStop('(timeout).')).toBe('(timeout)');
    expect(withoutFullStop('v1.2')).toBe('v1.2');
  });
});
