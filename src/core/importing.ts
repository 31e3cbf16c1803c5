/**
 * Numbers the carrier account owns that Switchboard has not recorded yet (bought in the carrier's
 * portal, or before Switchboard, and not synced since): verified at the carrier one at a time and
 * imported into the pool, so that `claim`, `link` and `provision --existing` work on them at once.
 */
import { CoreError } from './errors.js';
import type { Carrier, Deps } from './ports.js';
import type { NumberRecord } from './types.js';

export interface Found {
  number: NumberRecord;
  /** True when this call verified the number at the carrier and recorded it. */
  imported: boolean;
}

/** Our record of the number, or the carrier's, imported; null when neither has it. */
export async function findOrImport(deps: Deps, e164: string): Promise<Found | null> {
  const known = await deps.store.getNumber(e164);
  if (known) return { number: known, imported: false };
  const carriers = Object.values(deps.carriers).filter(
    (c): c is Carrier & Required<Pick<Carrier, 'lookupOwned'>> => c?.lookupOwned !== undefined,
  );
  if (carriers.length === 0) return null;
  const settled = await Promise.allSettled(carriers.map((c) => c.lookupOwned(e164)));
  const failures: string[] = [];
  for (const [index, result] of settled.entries()) {
    const carrier = carriers[index] as Carrier;
    if (result.status === 'rejected') {
      failures.push(
        `${carrier.name}: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`,
      );
      continue;
    }
    if (!result.value) continue;
    const outcome = await deps.store.importNumber(carrier.name, result.value, deps.clock.now());
    return { number: outcome.number, imported: outcome.status === 'imported' };
  }
  if (failures.length > 0) {
    throw new CoreError(
      'UNAVAILABLE',
      `${e164} is not in our records and the carrier could not be asked about it (${failures.join('; ')}). Try again, or run sync.`,
    );
  }
  return null;
}
