/**
 * The terminal's progress bar for long commands (sync): one line on stderr, redrawn in place, with
 * the count, the total when the carrier reports one, the rate and the time elapsed. The CLI only
 * draws it when stderr is a terminal and `--json` is off; stdout stays the command's answer.
 */
import type { Progress } from '../core/ports.js';
import { formatCount as count } from '../core/counts.js';

export type ProgressEvent = Parameters<Progress>[0];

export interface ProgressBarOptions {
  /** Where the line goes: stderr in the CLI, a string buffer in tests. */
  write: (text: string) => void;
  /** Terminal width; 80 when unknown. */
  columns?: number;
  /** Milliseconds, monotonic; `performance.now` by default. */
  now?: () => number;
  /** Redraw at most this often (the last state is always drawn by `finish`). */
  minIntervalMs?: number;
}

export interface ProgressBar {
  update(event: ProgressEvent): void;
  /** Draws the last state if a redraw was skipped, then clears the line. */
  finish(): void;
}

const CLEAR_LINE = '\r\x1b[K';
const BAR_WIDTH = 24;

/** `m:ss`, or `h:mm:ss` past an hour. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A bar of `width` cells for done/total, e.g. `[██████░░░░]`. */
export function renderBar(done: number, total: number, width = BAR_WIDTH): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** One line for one event, at most `columns - 1` characters (the cursor needs the last cell). */
export function renderProgressLine(event: ProgressEvent, elapsedMs: number, columns = 80): string {
  const parts: string[] = [event.phase];
  const total = event.total !== undefined && event.total > 0 ? event.total : undefined;
  if (total !== undefined) {
    parts.push(renderBar(event.done, total));
    const percent = Math.min(100, Math.floor((event.done / total) * 100));
    parts.push(`${count(event.done)}/${count(total)}`, `${percent}%`);
  } else {
    parts.push(`${count(event.done)} numbers`);
  }
  const seconds = elapsedMs / 1000;
  if (seconds >= 0.5) parts.push(`${count(event.done / seconds)}/s`);
  parts.push(formatElapsed(elapsedMs));
  let line = parts.join('  ');
  if (event.message) line += `  (${event.message})`;
  const max = Math.max(20, columns - 1);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const now = options.now ?? (() => performance.now());
  const minInterval = options.minIntervalMs ?? 100;
  const started = now();
  let lastDrawn = -Infinity;
  let pending: ProgressEvent | null = null;
  let drawnAny = false;

  const draw = (event: ProgressEvent, at: number) => {
    options.write(CLEAR_LINE + renderProgressLine(event, at - started, options.columns));
    lastDrawn = at;
    pending = null;
    drawnAny = true;
  };

  return {
    update(event) {
      const at = now();
      const complete = event.total !== undefined && event.done >= event.total;
      if (complete || at - lastDrawn >= minInterval) draw(event, at);
      else pending = event;
    },
    finish() {
      if (pending) draw(pending, now());
      if (drawnAny) options.write(CLEAR_LINE);
    },
  };
}

/**
 * An AbortSignal that fires on the first Ctrl-C, so a sync stops cleanly (its run is marked
 * failed, nothing is marked missing) instead of dying mid-write. A second Ctrl-C is Node's usual
 * exit. `dispose` removes the handler.
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onInterrupt = () => {
    process.stderr.write(`${CLEAR_LINE}Stopping: finishing the batch being written…\n`);
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onInterrupt);
  return {
    signal: controller.signal,
    dispose: () => void process.removeListener('SIGINT', onInterrupt),
  };
}
