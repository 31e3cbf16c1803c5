/**
 * Configuration from the environment, parsed once by each entry point. Every problem is reported
 * at once, each naming the variable and what to put in it.
 */
import { z } from 'zod';
import { CoreError } from '../core/errors.js';

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  );

const optionalNumber = (what: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return null;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < 0) {
        ctx.addIssue({ code: 'custom', message: `must be ${what}, e.g. 100` });
        return z.NEVER;
      }
      return parsed;
    });

const bool = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === '') return false;
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false' });
    return z.NEVER;
  });

const url = z.string().url('must be a URL such as https://api.example.com').optional();

const envSchema = z.object({
  SWITCHBOARD_DATA_DIR: z.string().default('./.switchboard'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  SUPABASE_URL: url,
  SUPABASE_SERVICE_ROLE_KEY: z.string().optional(),

  TELNYX_API_KEY: z.string().optional(),
  TELNYX_BASE_URL: url,
  TELNYX_CONNECTION_ID: z.string().optional(),
  TELNYX_MESSAGING_PROFILE_ID: z.string().optional(),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be an account SID: AC followed by 32 hex digits')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_API_KEY: z.string().optional(),
  TWILIO_API_SECRET: z.string().optional(),
  TWILIO_BASE_URL: url,
  TWILIO_TRUNK_SID: z.string().optional(),

  RETELL_API_KEY: z.string().optional(),
  RETELL_BASE_URL: url,
  RETELL_TERMINATION_URI: z.string().optional(),
  /** Optional SIP trunk credentials Retell uses to reach the termination URI. */
  RETELL_SIP_USERNAME: z.string().optional(),
  RETELL_SIP_PASSWORD: z.string().optional(),
  VAPI_API_KEY: z.string().optional(),
  VAPI_BASE_URL: url,
  VAPI_TELNYX_CREDENTIAL_ID: z.string().optional(),

  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_APPROVAL_CHANNEL: z.string().optional(),
  SLACK_API_URL: url,

  SWITCHBOARD_APPROVERS: list,
  SWITCHBOARD_ADMINS: list,
  SWITCHBOARD_ALLOW_SELF_APPROVAL: bool,
  SWITCHBOARD_AUTO_APPROVE_UNDER: optionalNumber('a monthly cost in USD'),
  SWITCHBOARD_MEMBER_NUMBER_CAP: optionalNumber('a whole number of numbers'),
  SWITCHBOARD_MONTHLY_BUDGET: optionalNumber('a monthly amount in USD'),
  SWITCHBOARD_REQUEST_TTL_MINUTES: optionalNumber('a number of minutes'),
  SWITCHBOARD_QUOTE_TTL_MINUTES: optionalNumber('a number of minutes'),
  SWITCHBOARD_AS: z.string().optional(),

  SWITCHBOARD_SANDBOX_LATENCY_MS: optionalNumber('milliseconds'),
  SWITCHBOARD_SANDBOX_FAULT_RATE: optionalNumber('a share from 0 to 1'),
  SWITCHBOARD_SANDBOX_SEED: optionalNumber('a whole number'),

  // Abuse limits (issue 8): per Slack user and per MCP token, in each serve process; 0 turns off.
  SWITCHBOARD_RATE_LIMIT_PER_MINUTE: optionalNumber('a number of requests a minute (0: no limit)'),
  SWITCHBOARD_RATE_LIMIT_BURST: optionalNumber('a number of requests'),

  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The public URL `serve` is reached at (behind a proxy): its host is accepted by /mcp. */
  SWITCHBOARD_PUBLIC_URL: url,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
});

export type Env = z.output<typeof envSchema>;

export interface Config {
  env: Env;
  dataDir: string;
  databaseUrl: string | undefined;
  policy: {
    approvers: string[];
    admins: string[];
    allowSelfApproval: boolean;
    autoApproveUnderMonthly: number | null;
    memberNumberCap: number | null;
    monthlyBudget: number | null;
    requestTtlMinutes: number;
    quoteTtlMinutes: number;
  };
  sandbox: { latencyMs: number; faultRate: number; seed: number };
}

/** The names of every variable that holds a secret: redacted from logs, never audited. */
export const SECRET_VARIABLES = [
  'DATABASE_URL',
  'SUPABASE_SERVICE_ROLE_KEY',
  'TELNYX_API_KEY',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_API_SECRET',
  'RETELL_API_KEY',
  'RETELL_SIP_PASSWORD',
  'VAPI_API_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
] as const;

/** Replaces each secret value in `text` with [redacted]. */
export function mask(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

/** The secret values set in an environment, for masking wherever text might carry them. */
export function secretValues(env: Record<string, string | undefined>): string[] {
  return SECRET_VARIABLES.map((name) => env[name]).filter(
    (value): value is string => typeof value === 'string' && value !== '',
  );
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty variables count as unset: `FOO=` in a .env file means "not configured".
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new CoreError('INVALID_INPUT', `Configuration problems:\n  ${problems.join('\n  ')}`);
  }
  const env = parsed.data;
  const problems: string[] = [];
  if (
    env.TWILIO_ACCOUNT_SID &&
    !env.TWILIO_AUTH_TOKEN &&
    !(env.TWILIO_API_KEY && env.TWILIO_API_SECRET)
  ) {
    problems.push(
      'TWILIO_ACCOUNT_SID is set but neither TWILIO_AUTH_TOKEN nor TWILIO_API_KEY + TWILIO_API_SECRET is',
    );
  }
  if ((env.SUPABASE_URL === undefined) !== (env.SUPABASE_SERVICE_ROLE_KEY === undefined)) {
    problems.push('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY go together: set both or neither');
  }
  const rate = env.SWITCHBOARD_SANDBOX_FAULT_RATE;
  if (rate !== null && rate > 1)
    problems.push('SWITCHBOARD_SANDBOX_FAULT_RATE: must be a share from 0 to 1');
  if (problems.length > 0)
    throw new CoreError('INVALID_INPUT', `Configuration problems:\n  ${problems.join('\n  ')}`);

  return {
    env,
    dataDir: env.SWITCHBOARD_DATA_DIR,
    databaseUrl: env.DATABASE_URL,
    policy: {
      approvers: env.SWITCHBOARD_APPROVERS,
      admins: env.SWITCHBOARD_ADMINS,
      allowSelfApproval: env.SWITCHBOARD_ALLOW_SELF_APPROVAL,
      autoApproveUnderMonthly: env.SWITCHBOARD_AUTO_APPROVE_UNDER,
      memberNumberCap:
        env.SWITCHBOARD_MEMBER_NUMBER_CAP === null
          ? null
          : Math.floor(env.SWITCHBOARD_MEMBER_NUMBER_CAP),
      monthlyBudget: env.SWITCHBOARD_MONTHLY_BUDGET,
      requestTtlMinutes: env.SWITCHBOARD_REQUEST_TTL_MINUTES ?? 24 * 60,
      quoteTtlMinutes: env.SWITCHBOARD_QUOTE_TTL_MINUTES ?? 30,
    },
    sandbox: {
      latencyMs: env.SWITCHBOARD_SANDBOX_LATENCY_MS ?? 0,
      faultRate: env.SWITCHBOARD_SANDBOX_FAULT_RATE ?? 0,
      seed: env.SWITCHBOARD_SANDBOX_SEED ?? 1,
    },
  };
}

// --- Rate limits (issue 8) ------------------------------------------------------------------------

export const DEFAULT_RATE_LIMIT = { perMinute: 60, burst: 30 } as const;

/**
 * The per-identity rate limit for Slack commands and MCP over HTTP: a sustained rate a minute and
 * a burst (a double-click storm or a model's parallel tool calls fit in it). Null when turned off
 * with SWITCHBOARD_RATE_LIMIT_PER_MINUTE=0.
 */
export function rateLimitOf(env: Partial<Env>): { perMinute: number; burst: number } | null {
  const perMinute = env.SWITCHBOARD_RATE_LIMIT_PER_MINUTE ?? DEFAULT_RATE_LIMIT.perMinute;
  if (perMinute === 0) return null;
  const burst = Math.max(
    1,
    Math.floor(env.SWITCHBOARD_RATE_LIMIT_BURST ?? DEFAULT_RATE_LIMIT.burst),
  );
  return { perMinute, burst };
}
