/** A time as people read it in a message: 2026-11-21 23:31 UTC. */
export const minuteUtc = (at: Date): string =>
  `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
