/**
 * Fuzzing (issue 8, item 3) with fast-check. Every answer must be a result or a clear error: no
 * crash, no unhandled rejection, no INTERNAL ("something went wrong") answer.
 *
 * - The text grammar every front shares (`tokenize`, `parseWords`, then each command's zod
 *   schema): 10,000 slash-command texts and 10,000 CLI argument lists, in process, fast.
 * - End to end: the CLI's `main(argv)` on a PGlite store with the sandbox, MCP tool calls from the
 *   SDK's own client over memory, and signed `/number` requests to the real Slack receiver in
 *   `serve`. These run FUZZ_RUNS inputs each (200 by default, to keep `npm test` reasonable);
 *   `npm run fuzz` runs them with FUZZ_RUNS=10000.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/config.js';
import { commands, findCommand } from '../../src/core/commands/index.js';
import { isCoreError } from '../../src/core/errors.js';
import { flagNames, parseWords, tokenize } from '../../src/core/grammar.js';
import { DESIGN_TOOL_NAMES } from '../../src/mcp/tools.js';
import { slackCommands } from '../../src/slack/listeners.js';
import { SANDBOX_AGENTS } from '../../src/agents/sandbox-agents.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { makeDeps } from '../helpers/deps.js';
import type { TestDeps } from '../helpers/deps.js';
import { freshPglite } from '../helpers/stores.js';
import { connectInMemory, MCP_ALICE, MCP_READER, textOf } from '../mcp/helpers.js';
import { eventually, postSigned, slashBody } from '../slack/fake-slack.js';
import { startHarness } from '../slack/harness.js';
import type { Harness } from '../slack/harness.js';

const PURE_RUNS = 10_000;
const E2E_RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = Number(process.env.FUZZ_SEED ?? 8);

// ------------------------------------------------------------------------------------------------
// Words people (and models) type: real verbs, flags and values, near misses, and noise.

const COMMAND_NAMES = commands.map((c) => c.name);
const FLAGS = [...new Set(commands.flatMap((c) => flagNames(c)))].map((f) => `--${f}`);
const VALUES = [
  '415',
  '41',
  '4155',
  '800',
  '999',
  '+14155550142',
  '+14155550100',
  '+1415555014',
  '+999',
  '4155550142',
  '(415) 555-0142',
  'R-7K3Q9X2M',
  'R-',
  'r-abcd1234',
  'Q-FQBQFX59GY',
  'retell:agent_sandbox_support',
  'vapi:asst_sandbox_reception',
  'retell:',
  ':',
  'vapi:nobody',
  'pending',
  'mine',
  'all',
  'pool',
  'local',
  'toll-free',
  'voice,sms',
  'US',
  'CA',
  'sandbox',
  'telnyx',
  '0',
  '-1',
  '1e9',
  'NaN',
  'true',
  '--',
  '-',
  'San Francisco',
  'Portland, OR',
  'U01ALICE',
  'U01BOB',
];
/** NUL is left out of generated text: a known bug, tested on its own below. */
const clean = (text: string) => text.replaceAll('\u0000', '');
const noise = fc
  .oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
  )
  .map(clean);
const word = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 2, arbitrary: fc.constantFrom(...FLAGS) },
  { weight: 1, arbitrary: fc.constantFrom(...FLAGS).map((f) => `${f}=`) },
  { weight: 2, arbitrary: noise },
);
const argv = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.constantFrom(...COMMAND_NAMES, 'help'), fc.array(word, { maxLength: 6 }))
      .map(([name, rest]) => [name, ...rest]),
  },
  { weight: 1, arbitrary: fc.array(word, { maxLength: 5 }) },
);
const cliArgv = fc
  .tuple(
    argv,
    fc.constantFrom([], ['--json'], ['--as', 'U01ALICE'], ['--as', 'U01BOB'], ['--as', '!!']),
  )
  .map(([a, b]) => [...a, ...b]);
const quoteChars = fc.constantFrom('"', "'", '\u201C', '\u201D', '\u2018', '\u2019', ' ', '\t');
const slashText = fc.oneof(
  { weight: 4, arbitrary: argv.map((words) => words.join(' ')) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(word, quoteChars), { maxLength: 10 })
      .map((parts) => parts.join('')),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map(clean) },
);

/** A clear error: a CoreError with a code and a message of a few words. */
function expectClearError(error: unknown): void {
  if (!isCoreError(error)) throw error;
  expect(error.code).not.toBe('INTERNAL');
  expect(error.message.length).toBeGreaterThan(10);
}

// ------------------------------------------------------------------------------------------------

describe(`fuzz: the text grammar (${PURE_RUNS.toLocaleString('en')} inputs each)`, () => {
  it('tokenize returns words or a clear error for any text', () => {
    fc.assert(
      fc.property(slashText, (text) => {
        try {
          const words = tokenize(text);
          expect(words.every((w) => typeof w === 'string')).toBe(true);
        } catch (error) {
          expectClearError(error);
        }
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );
  });

  it('tokenize keeps plain words as they are', () => {
    const plain = fc.array(fc.stringMatching(/^[A-Za-z0-9+:,._-]{1,12}$/), { maxLength: 8 });
    fc.assert(
      fc.property(plain, (words) => {
        expect(tokenize(words.join(' '))).toEqual(words);
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('slash-command text: every verb parses into its schema or gets a clear error', () => {
    const verbs = slackCommands();
    fc.assert(
      fc.property(slashText, (text) => {
        let words: string[];
        try {
          words = tokenize(text);
        } catch (error) {
          return expectClearError(error);
        }
        const [verb, ...rest] = words;
        const command = verbs.find((c) => c.name === verb?.toLowerCase()) ?? verbs[0]!;
        try {
          const input = parseWords(command, verb ? rest : words);
          const parsed = command.input.safeParse(input);
          if (!parsed.success) expect(parsed.error.issues.length).toBeGreaterThan(0);
        } catch (error) {
          expectClearError(error);
        }
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );
  });

  it('CLI arguments: every command parses into its schema or gets a clear error', () => {
    fc.assert(
      fc.property(cliArgv, (args) => {
        const [name, ...rest] = args;
        const command = (name && findCommand(name)) || commands[0]!;
        try {
          const input = parseWords(command, name && findCommand(name) ? rest : args);
          command.input.safeParse(input);
        } catch (error) {
          expectClearError(error);
        }
      }),
      { numRuns: PURE_RUNS, seed: SEED },
    );
  });
});

// ------------------------------------------------------------------------------------------------

describe(
  `fuzz: end to end (${E2E_RUNS.toLocaleString('en')} inputs per surface)`,
  {
    timeout: 60 * 60_000,
  },
  () => {
    let store: SqlStore;
    let deps: TestDeps;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);

    beforeAll(async () => {
      store = await freshPglite();
      deps = makeDeps(store);
      process.on('unhandledRejection', onUnhandled);
    });
    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      await store.close();
      expect(unhandled).toEqual([]);
    });

    it('CLI main(argv): an exit code with a result, or an error that says what to do', async () => {
      const env = { SWITCHBOARD_APPROVERS: 'U01BOB', SWITCHBOARD_ADMINS: 'U01ADMIN' };
      const app: App = {
        config: loadConfig(env),
        deps,
        storeLabel: 'fuzz (pglite)',
        close: async () => undefined, // one store for every run
      };
      const codes = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(cliArgv, async (args) => {
          if (['serve', 'mcp', 'token', 'migrate'].includes(args[0] ?? '')) return;
          let stdout = '';
          let stderr = '';
          const code = await main(args, {
            stdout: (t) => void (stdout += t),
            stderr: (t) => void (stderr += t),
            env,
            openApp: async () => app,
          });
          codes.set(code, (codes.get(code) ?? 0) + 1);
          expect([0, 2, 3, 4, 5], `${args.join(' ')}\n${stdout}${stderr}`).toContain(code);
          // --json always prints one JSON document, help and version included.
          if (args.includes('--json')) {
            const doc = JSON.parse(stdout) as { ok: boolean; error?: { message: string } };
            expect(doc.ok).toBe(code === 0);
            if (!doc.ok) expect(doc.error!.message.length).toBeGreaterThan(10);
          } else if (code === 0) {
            expect(stdout.length).toBeGreaterThan(0);
          } else {
            expect(stderr).toMatch(/^error: .{10,}/);
          }
        }),
        { numRuns: E2E_RUNS, seed: SEED, endOnFailure: true },
      );
      expect(codes.get(0)).toBeGreaterThan(0);
      expect(codes.get(2)).toBeGreaterThan(0);
      console.log(`CLI fuzz: exit codes ${JSON.stringify(Object.fromEntries(codes))}`);
    });

    // Found by the 10,000-input Slack run: the audit trail cut an unknown command word at 40 UTF-16
    // units, which could split a surrogate pair that PostgreSQL then refused (INTERNAL; Slack got
    // no answer). The audit trail now cuts text to well-formed strings (`clip` in command.ts).
    it('an unknown command word cut inside a surrogate pair gets a clear error', async () => {
      const env = { SWITCHBOARD_APPROVERS: 'U01BOB' };
      const app: App = { config: loadConfig(env), deps, storeLabel: 'fuzz', close: async () => {} };
      let out = '';
      const code = await main(['a' + '\u{12054}'.repeat(25)], {
        stdout: (t) => void (out += t),
        stderr: (t) => void (out += t),
        env,
        openApp: async () => app,
      });
      expect(code, out).toBe(2);
    });

    it('MCP tool arguments: every call answers a result or an error the model can act on', async () => {
      const sessions = [
        await connectInMemory(deps, MCP_ALICE),
        await connectInMemory(deps, MCP_READER),
      ];
      try {
        const listed = await Promise.all(sessions.map((s) => s.client.listTools()));
        const toolsOf = listed.map((l) => l.tools);
        // Every tool, offered or not: one a session is not offered (sync_numbers to a member, the
        // write tools to a reader) must still answer with a refusal the model can act on.
        const names = [...new Set([...DESIGN_TOOL_NAMES, ...toolsOf.flat().map((t) => t.name)])];
        const propertyNames = [
          ...new Set(
            toolsOf.flat().flatMap((t) => Object.keys((t.inputSchema.properties ?? {}) as object)),
          ),
        ];
        const value = fc.oneof(
          fc.constantFrom<unknown>(...VALUES),
          fc.constantFrom<unknown>(
            `retell:${SANDBOX_AGENTS.retell[0]!.id}`,
            null,
            true,
            -1,
            0,
            5,
            1e12,
            [],
            {},
          ),
          fc.jsonValue({ maxDepth: 2 }),
          noise,
        );
        const args = fc.oneof(
          {
            weight: 4,
            arbitrary: fc.dictionary(fc.constantFrom(...propertyNames), value, { maxKeys: 4 }),
          },
          { weight: 1, arbitrary: fc.dictionary(noise, value, { maxKeys: 3 }) },
        );
        const call = fc.record({
          session: fc.nat({ max: sessions.length - 1 }),
          name: fc.oneof(
            { weight: 9, arbitrary: fc.constantFrom(...names) },
            { weight: 1, arbitrary: noise },
          ),
          arguments: args,
        });
        let results = 0;
        let errors = 0;
        await fc.assert(
          fc.asyncProperty(call, async ({ session, name, arguments: input }) => {
            const client: Client = sessions[session]!.client;
            try {
              const result = await client.callTool({ name, arguments: input });
              const text = textOf(result);
              expect(text.length, JSON.stringify({ name, input })).toBeGreaterThan(0);
              if (result.isError) {
                errors++;
                expect(text).not.toMatch(/something went wrong/i);
              } else results++;
            } catch (error) {
              // A protocol-level refusal (unknown tool, arguments that are not an object): clear too.
              if (!(error instanceof McpError)) throw error;
              errors++;
              expect(error.message.length).toBeGreaterThan(10);
            }
          }),
          { numRuns: E2E_RUNS, seed: SEED, endOnFailure: true },
        );
        expect(results).toBeGreaterThan(0);
        expect(errors).toBeGreaterThan(0);
      } finally {
        for (const s of sessions) await s.close();
      }
    });

    describe('Slack', () => {
      let h: Harness;
      beforeAll(async () => {
        // Rate limits off (issue 8): fuzz the grammar, not the "slow down" answer.
        h = await startHarness({ env: { SWITCHBOARD_RATE_LIMIT_PER_MINUTE: '0' } });
      });
      afterAll(async () => {
        await h?.close();
      });

      it('/number text: every command is acknowledged, then answered privately with a reply', async () => {
        let sent = 0;
        const users = ['U01ALICE', 'U01BOB', 'U01CAROL'];
        await fc.assert(
          fc.asyncProperty(slashText, fc.constantFrom(...users), async (text, user) => {
            const id = `fuzz-${sent++}`;
            const res = await postSigned(h.server.url, slashBody(h.fake, user, text, id));
            expect(res.status, text).toBe(200);
            // The answer comes through response_url after the ack; wait for it, one at a time.
            const reply = await eventually(
              () => h.fake.responses.find((r) => r.id === id),
              `a reply to ${JSON.stringify(text)}`,
              30_000,
            );
            const body = JSON.stringify(reply.body);
            expect(body.length).toBeGreaterThan(20);
            expect(body, text).not.toMatch(/something went wrong/i);
          }),
          { numRuns: E2E_RUNS, seed: SEED, endOnFailure: true },
        );
      });

      // A NUL character in user text used to reach PostgreSQL, which refuses it (INTERNAL; no
      // answer on Slack). runCommand now refuses it as bad input and the audit trail drops it.
      it('a NUL character in /number text gets a clear answer', async () => {
        for (const [i, text] of ['\u0000', 'buy 415 --reason a\u0000b'].entries()) {
          await postSigned(h.server.url, slashBody(h.fake, 'U01ALICE', text, `nul-${i}`));
          const reply = await eventually(
            () => h.fake.responses.find((r) => r.id === `nul-${i}`),
            'a reply',
            10_000,
          );
          expect(JSON.stringify(reply.body)).not.toMatch(/something went wrong/i);
        }
      });
    });
  },
);
