import { describe, expect, it } from 'vitest';
import { commands, findCommand } from '../../src/core/commands/index.js';
import { parseWords, tokenize } from '../../src/core/grammar.js';
import { toE164 } from '../../src/core/phone.js';
import { findAreaCodesByCity, lookupAreaCode } from '../../src/core/area-codes.js';

const cmd = (name: string) => findCommand(name)!;

describe('tokenize', () => {
  it('splits words and honours straight and Slack curly quotes', () => {
    expect(tokenize('buy 415 --reason "support line"')).toEqual([
      'buy',
      '415',
      '--reason',
      'support line',
    ]);
    expect(tokenize('search \u201CSan Francisco\u201D')).toEqual(['search', 'San Francisco']);
    expect(tokenize("deny R-1 'not now'")).toEqual(['deny', 'R-1', 'not now']);
    expect(tokenize('  list   pool ')).toEqual(['list', 'pool']);
  });
  it('refuses an unclosed quote', () => {
    expect(() => tokenize('buy 415 --reason "oops')).toThrow(/not closed/);
  });
});

describe('parseWords', () => {
  it('fills positional args, flags, comma lists, numbers and booleans', () => {
    expect(
      parseWords(cmd('search'), ['San', 'Francisco', '--features', 'voice,sms', '--limit', '5']),
    ).toEqual({ query: 'San Francisco', features: ['voice', 'sms'], limit: 5 });
    expect(parseWords(cmd('release'), ['+14155550142', '--unlink', '--reason=done'])).toEqual({
      number: '+14155550142',
      unlink: true,
      reason: 'done',
    });
    expect(parseWords(cmd('link'), ['+14155550142', 'retell:agent_1'])).toEqual({
      number: '+14155550142',
      agent: 'retell:agent_1',
    });
    // A trailing free-text argument may also be given as its flag, as the usage shows.
    expect(parseWords(cmd('deny'), ['R-1', '--reason', 'use the pool'])).toEqual({
      id: 'R-1',
      reason: 'use the pool',
    });
    expect(parseWords(cmd('deny'), ['R-1', 'use', 'the', 'pool'])).toEqual({
      id: 'R-1',
      reason: 'use the pool',
    });
  });
  it('refuses unknown flags, extra words and missing arguments with the usage', () => {
    expect(() => parseWords(cmd('claim'), [])).toThrow(
      /claim needs the number to claim, e\.g\. claim \+14155550142\. Usage: claim <\+E\.164>/,
    );
    expect(() => parseWords(cmd('claim'), ['+14155550142', 'extra'])).toThrow(
      /does not take "extra"/,
    );
    expect(() => parseWords(cmd('buy'), ['415', '--colour', 'red'])).toThrow(
      /no option --colour\. Options: --reason/,
    );
    expect(() => parseWords(cmd('buy'), ['415', '--reason'])).toThrow(/--reason needs a value/);
  });
  it('list: an area code may come first (the default scope), a scope still comes first when both do', () => {
    expect(parseWords(cmd('list'), ['415'])).toEqual({ area: '415' });
    expect(parseWords(cmd('list'), ['pool', '415'])).toEqual({ scope: 'pool', area: '415' });
    expect(parseWords(cmd('list'), ['pool'])).toEqual({ scope: 'pool' });
    expect(parseWords(cmd('list'), [])).toEqual({});
    expect(parseWords(cmd('list'), ['all', '--after', '+14155550142'])).toEqual({
      scope: 'all',
      after: '+14155550142',
    });
    expect(parseWords(cmd('list'), ['415', '--limit', '5'])).toEqual({ area: '415', limit: 5 });
    // A first word that is neither says both forms; so do two area codes, or the scope last.
    const usage = 'Usage: list [mine|pool|all] [area code] [--limit N] [--after <+E.164>]';
    expect(() => parseWords(cmd('list'), ['Boston'])).toThrow(
      `"Boston" is neither a scope (mine, pool or all) nor a three-digit area code. Type list 415, or list pool 415. ${usage}`,
    );
    expect(() => parseWords(cmd('list'), ['41'])).toThrow(/^"41" is neither a scope/);
    expect(() => parseWords(cmd('list'), ['415', 'pool'])).toThrow(
      `The scope comes before the area code: list pool 415. ${usage}`,
    );
    expect(() => parseWords(cmd('list'), ['415', '415'])).toThrow(
      `list takes one area code, after the scope if you give one, not "415 415". Type list 415, or list pool 415. ${usage}`,
    );
    expect(() => parseWords(cmd('list'), ['pool', '415', '212'])).toThrow(/does not take "212"/);
  });
  it('every command has a usage, examples and a zod input whose positional args exist', () => {
    for (const command of commands) {
      expect(command.usage.startsWith(command.name)).toBe(true);
      expect(command.examples.length).toBeGreaterThan(0);
      for (const arg of command.args) expect(Object.keys(command.input.shape)).toContain(arg.name);
    }
  });
});

describe('phone numbers and places', () => {
  it('normalises common spellings to E.164 and refuses junk', () => {
    expect(toE164('+1 (415) 555-0142')).toBe('+14155550142');
    expect(toE164('415-555-0142')).toBe('+14155550142');
    expect(toE164('+44 20 7946 0958')).toBe('+442079460958');
    expect(() => toE164('+1415')).toThrow(/E\.164 form, e\.g\. \+14155550123/);
    expect(() => toE164('call me')).toThrow(/not a phone number/);
  });
  it('knows US and CA area codes and cities', () => {
    expect(lookupAreaCode('415')).toEqual({
      code: '415',
      city: 'San Francisco',
      region: 'CA',
      country: 'US',
    });
    expect(lookupAreaCode('604')?.country).toBe('CA');
    expect(findAreaCodesByCity('portland, or').map((a) => a.code)).toEqual(['503', '971']);
    expect(findAreaCodesByCity('Montréal').map((a) => a.code)).toEqual(['438', '514']);
  });
});
