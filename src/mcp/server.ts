/**
 * The MCP server for one identity: lists the tools that identity may use and runs each call
 * through `runCommand`, so every call (refusals and bad input included) writes one audit event,
 * exactly as the CLI and Slack do. Transports (stdio, Streamable HTTP, memory in tests) only
 * connect to what this returns.
 *
 * Built on the SDK's low-level `Server` rather than `McpServer.registerTool`: registerTool checks
 * the arguments itself and answers bad input without calling the handler, so such calls would
 * leave no audit event and would not get the core's messages that name the fix; and the tool list
 * depends on who is asking (a reader sees the read tools only).
 */
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ErrorCode as RpcErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AnyCommand, CommandContext } from '../core/command.js';
import { auditRefusal, runCommand } from '../core/command.js';
import { commands, findCommand, search } from '../core/commands/index.js';
import { buyInput } from '../core/commands/buy.js';
import { makeQuotes } from '../core/commands/search.js';
import type { ErrorCode } from '../core/errors.js';
import { CoreError, asCoreError } from '../core/errors.js';
import { formatMoney } from '../core/money.js';
import { autoApproves, isAdmin } from '../core/policy.js';
import { formatNumber, parseE164 } from '../core/phone.js';
import type { Deps, Progress } from '../core/ports.js';
import type { Actor, Quote } from '../core/types.js';
import type { BuyOut, ToolRole, ToolSpec } from './tools.js';
import { roleFor, toolSpecs } from './tools.js';

export const SERVER_INFO = { name: 'switchboard', version: '0.1.0' };

const INSTRUCTIONS =
  'Switchboard manages the phone numbers behind AI voice agents (Telnyx, Twilio; Retell, VAPI). ' +
  'To get a number: list_numbers with scope "pool" (claim_number is free and immediate), or ' +
  'search_numbers then request_purchase. Purchases wait for a human approver in Slack or the CLI: ' +
  'you can request spending, never approve it; follow a request with get_request. Then ' +
  'link_number to a voice agent from list_agents. Every call is recorded in the audit trail.';

/** Who is calling, and which tools their credential allows. */
export interface McpIdentity {
  actor: Actor;
  role: ToolRole;
}

export interface McpServerOptions {
  logger?: Logger;
  /** How long the user has to answer a purchase confirmation (elicitation); default 10 minutes. */
  confirmTimeoutMs?: number;
}

/** What the model should do next, per error code (the message itself already names the fix). */
export const NEXT_STEP: Record<ErrorCode, string> = {
  INVALID_INPUT: 'Fix the arguments as the message says and call the tool again.',
  FORBIDDEN:
    'Do not retry: this needs a person. Tell the user; an approver decides purchases in Slack or the CLI, an admin changes roles, tokens and policy.',
  NOT_FOUND:
    'Check the number or id (list_numbers, search_numbers and get_request show what exists), then try again.',
  CONFLICT:
    'Something is in the way or changed meanwhile: read the current state (list_numbers or get_request) before trying again.',
  UPSTREAM:
    'The carrier or voice-agent platform failed. Nothing was half done unless the message says so: try again in a minute, or tell the user.',
  UNAVAILABLE:
    'A service Switchboard needs is not available or not configured: tell the user what the message says to set up.',
  INTERNAL:
    'Something went wrong inside Switchboard: tell the user and do not retry in a loop; an admin finds the cause in the server log by the error id.',
};

/** The model's view of an error; `errorId` names the server log line of an unexpected one. */
export function errorResult(error: CoreError, errorId?: string): CallToolResult {
  const id = errorId ? ` (error id ${errorId})` : '';
  return {
    isError: true,
    content: [
      { type: 'text', text: `${error.code}: ${error.message}${id}\n${NEXT_STEP[error.code]}` },
    ],
  };
}

interface BuiltTool {
  spec: ToolSpec;
  command: AnyCommand;
  role: ToolRole;
  definition: Tool;
}

// JSON schemas depend only on the command registry: made once per process. Descriptions depend
// on the policy too (auto-approval), so they are made with each server.
const schemas = new Map<string, Pick<Tool, 'inputSchema' | 'outputSchema'>>();

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Tool['inputSchema'] {
  const out = z.toJSONSchema(schema, { target: 'draft-7', io }) as Record<string, unknown>;
  delete out.$schema;
  return out as Tool['inputSchema'];
}

function definitionFor(spec: ToolSpec, command: AnyCommand): Tool {
  let schema = schemas.get(spec.name);
  if (!schema) {
    schema = {
      // The commands' schemas drop unknown keys; a model is told instead (see unknownArguments).
      inputSchema: { ...jsonSchema(command.input, 'input'), additionalProperties: false },
      outputSchema: jsonSchema(spec.output, 'output'),
    };
    schemas.set(spec.name, schema);
  }
  return {
    name: spec.name,
    title: spec.title,
    description: `${command.summary}. ${spec.guidance}${command.effect === 'spend' ? ' [spends money after human approval]' : ''}`,
    ...schema,
    annotations: { title: spec.title, ...spec.annotations },
  };
}

/**
 * The tools served, in DESIGN.md's order: every row whose core command is in the registry.
 * A row whose command is missing (provision, until it lands) is simply not served; the tests say so.
 */
export function servedTools(deps: Deps): BuiltTool[] {
  const built: BuiltTool[] = [];
  const { approvers, allowSelfApproval, autoApproveUnderMonthly } = deps.policy;
  for (const spec of toolSpecs({ approvers, allowSelfApproval, autoApproveUnderMonthly })) {
    const command = findCommand(spec.command);
    if (!command) continue;
    built.push({
      spec,
      command,
      role: roleFor(command.effect),
      definition: definitionFor(spec, command),
    });
  }
  return built;
}

/**
 * Arguments the tool does not have. The command's schema would drop them silently, so a model that
 * guessed a name (numberType for type, offset for paging) would take the answer for what it asked.
 */
function unknownArguments(tool: BuiltTool, args: Record<string, unknown>): CoreError | null {
  const known = Object.keys(tool.command.input.shape);
  const unknown = Object.keys(args).filter((key) => !known.includes(key));
  if (unknown.length === 0) return null;
  return new CoreError(
    'INVALID_INPUT',
    `${tool.spec.name} has no argument${unknown.length === 1 ? '' : 's'} ${unknown.map((key) => `"${key}"`).join(', ')}. Its arguments: ${known.join(', ') || 'none'}.`,
  );
}

const mayUse = (identity: McpIdentity, tool: BuiltTool) =>
  identity.role === 'requester' || tool.role === 'reader';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Core progress events as MCP progress notifications, when the client sent a progressToken. */
function progressFor(extra: Extra): Progress | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  // One running total across carriers, so that progress only ever grows.
  const phases = new Map<string, number>();
  return (event) => {
    phases.set(event.phase, event.done);
    const progress = [...phases.values()].reduce((a, b) => a + b, 0);
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress,
          ...(event.total !== undefined && phases.size === 1 ? { total: event.total } : {}),
          message: `${event.phase}: ${event.done} numbers${event.message ? ` (${event.message})` : ''}`,
        },
      })
      .catch(() => undefined);
  };
}

export function createMcpServer(
  deps: Deps,
  identity: McpIdentity,
  options: McpServerOptions = {},
): Server {
  const { actor } = identity;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10 * 60_000;
  const log = options.logger?.child({ via: 'mcp', actor: actor.id });
  const tools = new Map(servedTools(deps).map((tool) => [tool.spec.name, tool]));
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: INSTRUCTIONS,
  });

  // What this caller is offered: not a tool its token's role refuses, nor one only admins may run
  // when the caller is no admin (a token never is). Calling either anyway is refused, and audited.
  const offered = (tool: BuiltTool) =>
    mayUse(identity, tool) && !(tool.command.adminOnly && !isAdmin(deps.policy, actor));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [...tools.values()].filter(offered).map((t) => t.definition),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const started = performance.now();
    const tool = tools.get(name);
    let result: CallToolResult;
    if (!tool) {
      result = await refuse(
        name,
        new CoreError(
          'INVALID_INPUT',
          `There is no tool "${name}". Tools: ${[...tools.values()]
            .filter(offered)
            .map((t) => t.spec.name)
            .join(
              ', ',
            )}.${/approve|deny/i.test(name) ? ' Approving and denying purchases is for humans, in Slack or the CLI.' : ''}`,
        ),
      );
    } else if (!mayUse(identity, tool)) {
      const readTools = [...tools.values()].filter((t) => t.role === 'reader');
      result = await refuse(
        tool.command.name,
        new CoreError(
          'FORBIDDEN',
          `${name} changes things and this token is a reader token, which may only use ${readTools.map((t) => t.spec.name).join(', ')}. An admin can make a requester token: switchboard token create --name <name> --role requester`,
        ),
      );
    } else {
      const args = request.params.arguments ?? {};
      const unknown = unknownArguments(tool, args);
      result = unknown ? await refuse(tool.command.name, unknown) : await call(tool, args, extra);
    }
    log?.info(
      {
        tool: name,
        outcome: result.isError ? 'error' : 'ok',
        ms: Math.round(performance.now() - started),
      },
      'tool call',
    );
    return result;
  });

  async function refuse(commandName: string, error: CoreError): Promise<CallToolResult> {
    await auditRefusal(deps, actor, commandName, error).catch((e: unknown) =>
      log?.error({ err: e }, 'audit write failed'),
    );
    return errorResult(error);
  }

  async function call(tool: BuiltTool, args: Record<string, unknown>, extra: Extra) {
    try {
      let input = args;
      if (tool.spec.name === 'request_purchase') {
        const confirmed = await confirmPurchase(tool, args, extra);
        if ('declined' in confirmed) return confirmed.declined;
        input = confirmed.input;
      }
      const progress = progressFor(extra);
      const output = await runCommand(deps, tool.command, actor, input, {
        ...(progress ? { progress } : {}),
        signal: extra.signal,
      });
      const view = tool.spec.view(output);
      return {
        content: [{ type: 'text', text: tool.spec.text(view) }],
        structuredContent: view,
      } satisfies CallToolResult;
    } catch (thrown) {
      const error = asCoreError(thrown);
      if (error.code !== 'INTERNAL') return errorResult(error);
      // The model and the user see only an id; the cause, which may quote internals, stays in the log.
      const errorId = randomUUID().slice(0, 8);
      log?.error({ err: error.cause, tool: tool.spec.name, errorId }, 'tool failed');
      return errorResult(error, errorId);
    }
  }

  /**
   * Where the client can ask its user (elicitation), the purchase is confirmed before any request
   * is made: the user sees the number and the server's price, and the request binds to exactly
   * that quote. Declined or cancelled: nothing is created. Clients without elicitation go straight
   * through: the human approval is the real gate.
   */
  async function confirmPurchase(
    tool: BuiltTool,
    args: Record<string, unknown>,
    extra: Extra,
  ): Promise<{ input: Record<string, unknown> } | { declined: CallToolResult }> {
    if (!server.getClientCapabilities()?.elicitation?.form) return { input: args };
    const parsed = buyInput.safeParse(args);
    // Bad input: the command itself refuses it (audited) with a message that names the fix.
    if (!parsed.success) return { input: args };
    const quote = await previewQuote(parsed.data).catch(() => null);
    if (!quote) return { input: args };
    const price = `${formatMoney(quote.monthlyCost, quote.currency)}/month + ${formatMoney(quote.upfrontCost, quote.currency)} upfront`;
    const where = [quote.locality, quote.region].filter(Boolean).join(', ');
    const what = `${formatNumber(quote.e164)}${where ? ` (${where})` : ''} from ${quote.carrier}${quote.sandbox ? ' (sandbox: pretend)' : ''} at ${price}`;
    // Under the auto-approve threshold this answer is the only one a person gives: say so.
    const atOnce = autoApproves(deps.policy, quote.monthlyCost);
    const answer = await server
      .elicitInput(
        {
          mode: 'form',
          message: atOnce
            ? `Buy ${what}? It is under this server's auto-approve threshold (${formatMoney(deps.policy.autoApproveUnderMonthly ?? 0)}/month), so it is bought at once, with no other approval.`
            : `Request the purchase of ${what}? A human approver still has to approve it before anything is bought.`,
          requestedSchema: {
            type: 'object',
            properties: {
              confirm: {
                type: 'boolean',
                title: atOnce ? 'Buy this number now' : 'Request this purchase',
                description: `${quote.e164} at ${price}`,
                default: true,
              },
            },
            required: ['confirm'],
          },
        },
        { relatedRequestId: extra.requestId, signal: extra.signal, timeout: confirmTimeoutMs },
      )
      // A person reading a price may take longer than the SDK's 60 s default for a request.
      .catch((error: unknown) => {
        if (
          error instanceof McpError &&
          error.code === RpcErrorCode.RequestTimeout &&
          !extra.signal.aborted
        )
          return null;
        throw error;
      });
    if (answer?.action === 'accept' && answer.content?.confirm !== false)
      return { input: { ...args, target: quote.id } };
    const purchase = `the purchase of ${quote.e164} at ${price}`;
    const happened = !answer
      ? `The user did not answer within ${confirmTimeoutMs >= 60_000 ? `${Math.round(confirmTimeoutMs / 60_000)} minutes` : `${Math.round(confirmTimeoutMs / 1000)} seconds`} when asked to confirm ${purchase}`
      : `The user ${answer.action === 'cancel' ? 'cancelled' : 'declined'} ${purchase}`;
    await auditRefusal(
      deps,
      actor,
      tool.command.name,
      new CoreError(
        'FORBIDDEN',
        `${happened}${answer ? ' when asked to confirm' : ''}; nothing was requested.`,
      ),
    );
    const view: BuyOut = {
      requestId: null,
      status: 'declined',
      number: quote.e164,
      carrier: quote.carrier,
      monthlyCost: quote.monthlyCost,
      upfrontCost: quote.upfrontCost,
      currency: quote.currency,
      requester: actor.id,
      onBehalfOf: actor.onBehalfOf ?? null,
      reason: parsed.data.reason ?? null,
      expiresAt: null,
      decidedBy: null,
      decisionNote: null,
      error: null,
      linkTo: null,
      linkStatus: null,
      next: `${happened}; nothing was requested. ${answer ? 'Do not ask again unless the user wants it.' : 'Ask the user whether they still want it before requesting it again.'}`,
      approvers: [],
      autoApproved: false,
      pool: [],
      bought: null,
    };
    return { declined: { content: [{ type: 'text', text: view.next }], structuredContent: view } };
  }

  type PreviewInput = z.output<typeof buyInput>;

  /** The quote a purchase request for this input would bind to (as `buy` would choose it). */
  async function previewQuote(input: PreviewInput): Promise<Quote | null> {
    const target = input.target.trim();
    if (/^Q-/i.test(target)) return deps.store.getQuote(target.toUpperCase());
    if (/^\d{1,3}$/.test(target)) {
      const found = await runCommand(deps, search, actor, {
        query: target,
        type: input.type,
        features: input.features,
        limit: 1,
        ...(input.country ? { country: input.country } : {}),
        ...(input.carrier ? { carrier: input.carrier } : {}),
      });
      return found.quotes[0] ?? null;
    }
    const e164 = parseE164(target);
    if (!e164) return null;
    const saved = await deps.store.findQuote(e164, deps.clock.now());
    if (saved && (!input.carrier || saved.carrier === input.carrier)) return saved;
    const context: CommandContext = { deps, actor, note: () => undefined };
    for (const carrier of Object.values(deps.carriers)) {
      if (!carrier || (input.carrier && carrier.name !== input.carrier)) continue;
      const offer = await carrier.check(e164);
      if (offer) return (await makeQuotes(context, [offer]))[0] ?? null;
    }
    return null;
  }

  return server;
}

/** Every core command that is not a tool, and why: approve and deny are for humans. */
export function commandsWithoutTools(deps: Deps): string[] {
  const served = new Set(servedTools(deps).map((t) => t.command.name));
  return commands.map((c) => c.name).filter((name) => !served.has(name));
}
