/**
 * A sandbox-only crash knob for the crash-safety tests: `SWITCHBOARD_SANDBOX_CRASH_AT=<point>`
 * makes the process SIGKILL itself when the sandbox carrier or agent platform reaches that point,
 * so a test can stop a purchase, release or link at an exact step and restart it. Only the sandbox
 * adapters call it (real carriers never do), and it does nothing unless the variable names a point.
 *
 * It reads process.env itself, unlike the rest of the code, so that no front end or config schema
 * has to carry a test-only setting.
 */
export const CRASH_POINTS = [
  /** The carrier was asked to order, and has done nothing yet. */
  'order:before',
  /** The carrier accepted and recorded the order; the answer never reaches us. */
  'order:after',
  /** The carrier was asked to release the number, and has done nothing yet. */
  'release:before',
  /** The carrier released the number; the answer never reaches us. */
  'release:after',
  /** The platform was asked to link, and has done nothing yet. */
  'link:before',
  /** The platform linked the number; the answer never reaches us. */
  'link:after',
  /** The platform unlinked the number; the answer never reaches us. */
  'unlink:after',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export const CRASH_VARIABLE = 'SWITCHBOARD_SANDBOX_CRASH_AT';

/** Kills this process on the spot (no cleanup, no exit handlers) when `point` is the one asked for. */
export function crashPoint(point: CrashPoint): void {
  if (process.env[CRASH_VARIABLE] === point) process.kill(process.pid, 'SIGKILL');
}
