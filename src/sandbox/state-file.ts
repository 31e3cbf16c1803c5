/**
 * State for the sandbox carrier and agent platform: in memory, or in a JSON file so that a
 * sandbox "account" survives restarts and is shared by several processes (the CLI in one
 * terminal, `serve` in another). Each change re-reads the file under a lock and writes it back
 * atomically (write to a temporary file, then rename).
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class StateFile<T> {
  private memory: T;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string | undefined,
    private readonly initial: () => T,
  ) {
    this.memory = initial();
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  private read(): T {
    if (!this.path) return this.memory;
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.initial();
      throw error;
    }
  }

  private write(state: T): void {
    if (!this.path) {
      this.memory = state;
      return;
    }
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(state));
    renameSync(temporary, this.path);
  }

  private async lock(): Promise<() => void> {
    if (!this.path) return () => undefined;
    const lockPath = `${this.path}.lock`;
    for (let attempt = 0; ; attempt++) {
      try {
        closeSync(openSync(lockPath, 'wx'));
        return () => {
          try {
            unlinkSync(lockPath);
          } catch {
            // gone already
          }
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // A lock older than 10 s belongs to a process that died holding it.
        try {
          if (Date.now() - statSync(lockPath).mtimeMs > 10_000) unlinkSync(lockPath);
        } catch {
          // raced with its owner
        }
        await sleep(Math.min(2 + attempt, 25));
      }
    }
  }

  /** Reads the state; for lookups that change nothing. */
  get(): T {
    return this.read();
  }

  /** Applies `change` to the latest state, atomically across this process and others. */
  update<R>(change: (state: T) => R): Promise<R> {
    const run = async () => {
      const unlock = await this.lock();
      try {
        const state = this.read();
        const result = change(state);
        this.write(state);
        return result;
      } finally {
        unlock();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
