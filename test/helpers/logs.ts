/** A real logger (createLogger, redaction included) whose output a test reads back. */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/config/logger.js';

export interface CapturedLogger {
  logger: Logger;
  /** Each line as written: one JSON document per line. */
  lines: string[];
  /** The lines parsed. */
  records(): Array<Record<string, unknown>>;
}

export function capturedLogger(
  options: Omit<Parameters<typeof createLogger>[0] & object, 'stream' | 'destination'> = {},
): CapturedLogger {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    logger: createLogger({ ...options, stream }),
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
