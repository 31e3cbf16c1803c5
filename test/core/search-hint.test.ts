/**
 * An empty search says what to loosen, from what narrowed it: a `--contains 777` search is not
 * told to drop features it never asked for. The CLI and Slack give the same advice.
 */
import { describe, expect, it } from 'vitest';
import { renderers } from '../../src/cli/render.js';
import {
  emptySearchHint,
  searchInput,
  toCriteria,
  type SearchResult,
} from '../../src/core/commands/search.js';
import { searchMessage } from '../../src/slack/views/search.js';

const hintFor = (input: Record<string, unknown>) =>
  emptySearchHint(toCriteria(searchInput.parse(input)).criteria);

describe('emptySearchHint', () => {
  it('names only what the search narrowed', () => {
    expect(hintFor({ query: '415' })).toBe('Try a nearby area code.');
    expect(hintFor({ query: '415', contains: '777' })).toBe(
      'Try a nearby area code or a shorter --contains pattern.',
    );
    expect(hintFor({ query: '415', features: ['sms', 'mms'] })).toBe(
      'Try a nearby area code or fewer --features.',
    );
    expect(hintFor({ query: '800' })).toBe('Try a nearby toll-free prefix.');
    expect(hintFor({ query: 'San Francisco' })).toBe('Try a nearby city or its area codes.');
    expect(hintFor({ region: 'CA', contains: '77', type: 'mobile', features: ['sms'] })).toBe(
      'Try a shorter --contains pattern, another --region, fewer --features or --type local.',
    );
  });

  it('is what the CLI and Slack say when nothing was found', () => {
    const { criteria, described } = toCriteria(
      searchInput.parse({ query: '415', contains: '777' }),
    );
    const result: SearchResult = {
      criteria,
      described,
      quotes: [],
      carriers: ['sandbox'],
      skipped: [],
      sandbox: false,
      pool: null,
    };
    const cli = (renderers.search as (r: SearchResult) => string)(result);
    expect(cli).toContain(
      'No numbers available in area code 415 (San Francisco, CA). Try a nearby area code or a shorter --contains pattern.',
    );
    expect(cli).not.toContain('--features');
    expect(JSON.stringify(searchMessage(result).blocks)).toContain(
      'Try a nearby area code or a shorter --contains pattern.',
    );
  });
});
