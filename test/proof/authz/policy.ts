/**
 * The authorisation matrix's one policy table (issue 8): who may do what, written from
 * src/core/policy.ts and the command descriptors, and which roles and commands exist on which
 * surface. Every expected cell is derived from these tables; no cell is written by hand.
 */

export const ROLES = [
  'member',
  'approver',
  'admin',
  'mcp-reader',
  'mcp-requester',
  'anonymous',
] as const;
export type Role = (typeof ROLES)[number];

export const SURFACES = ['slack', 'mcp-http', 'mcp-stdio', 'cli'] as const;
export type Surface = (typeof SURFACES)[number];

export const SURFACE_TITLES: Record<Surface, string> = {
  slack: 'Slack',
  'mcp-http': 'MCP HTTP',
  'mcp-stdio': 'MCP stdio',
  cli: 'CLI',
};

/** Each row is one scenario: the command, and whose request or number it acts on. */
export const COMMANDS = [
  'search',
  'buy',
  'approve',
  'approve own',
  'approve own via token',
  'deny',
  'withdraw own',
  'claim',
  'unclaim own',
  'unclaim other',
  'release own',
  'release own via token',
  'release other',
  'link own',
  'link other',
  'unlink own',
  'list all',
  'sync',
  'provision',
  'audit',
  'token create',
] as const;
export type Command = (typeof COMMANDS)[number];

export const COMMAND_NOTES: Record<Command, string> = {
  search: 'search 415',
  buy: 'buy / request_purchase (a request, pending approval)',
  approve: "approve another member's pending request",
  'approve own': 'approve your own pending request',
  'approve own via token': 'approve a pending request made through an MCP token you own',
  deny: "deny another member's pending request",
  'withdraw own': 'deny your own pending request (withdraw it)',
  claim: 'claim a pool number',
  'unclaim own': 'give a number you hold back to the pool (a token: one its owner holds)',
  'unclaim other': "give another member's number back to the pool (take it back)",
  'release own': 'release a number you hold (a token: one its owner holds)',
  'release own via token':
    "release a number claimed through an MCP token you own (it is yours; a token: its owner's other token claimed it)",
  'release other': "release another member's number",
  'link own': "link a number you hold (a token: its owner's) to a voice agent",
  'link other': "link another member's number",
  'unlink own': "unlink a number you hold (a token: its owner's)",
  'list all': 'list all',
  sync: 'sync the carrier account',
  provision: 'provision <business phone> <agent> (a request)',
  audit: 'audit trail',
  'token create': 'token create (MCP bearer token)',
};

/** What the policy knows about an identity. */
export interface Who {
  approver: boolean;
  admin: boolean;
  /** MCP identities (stdio or HTTP): may request spending, never approve it. */
  mcp: boolean;
  /** False for a reader token: read tools only. */
  writes: boolean;
}

/** Self-approval is off by default (SWITCHBOARD_ALLOW_SELF_APPROVAL). */
export const ALLOW_SELF_APPROVAL = false;

/**
 * THE policy table. Approvers decide (never over MCP, never their own request unless allowed); a
 * requester may always withdraw their own request; members manage their own numbers and admins
 * any; a token acts for its owner (their numbers are its "own"), never with the owner's roles;
 * sync and tokens are admin-only; readers only read; anyone identified may search, list and read
 * the audit trail (members see their own events).
 */
export const POLICY: Record<Command, (who: Who) => boolean> = {
  search: () => true,
  buy: (w) => w.writes,
  approve: (w) => w.writes && w.approver && !w.mcp,
  'approve own': (w) => w.writes && w.approver && !w.mcp && ALLOW_SELF_APPROVAL,
  // A request made through a token is its owner's own (src/core/policy.ts isOwnRequest).
  'approve own via token': (w) => w.writes && w.approver && !w.mcp && ALLOW_SELF_APPROVAL,
  deny: (w) => w.writes && w.approver && !w.mcp,
  'withdraw own': (w) => w.writes,
  claim: (w) => w.writes,
  // Members give back their own numbers (a token: its owner's); admins take back anyone's.
  'unclaim own': (w) => w.writes,
  'unclaim other': (w) => w.writes && w.admin,
  'release own': (w) => w.writes,
  // What a token claims is its owner's (src/core/policy.ts memberOf).
  'release own via token': (w) => w.writes,
  'release other': (w) => w.writes && w.admin,
  'link own': (w) => w.writes,
  'link other': (w) => w.writes && w.admin,
  'unlink own': (w) => w.writes,
  'list all': () => true,
  sync: (w) => w.writes && w.admin,
  provision: (w) => w.writes,
  audit: () => true,
  'token create': (w) => w.writes && w.admin,
};

/** The policy facts of each role; anonymous callers never reach the policy. */
export const WHO: Record<Exclude<Role, 'anonymous'>, Omit<Who, 'mcp'>> = {
  member: { approver: false, admin: false, writes: true },
  approver: { approver: true, admin: false, writes: true },
  admin: { approver: false, admin: true, writes: true },
  'mcp-reader': { approver: false, admin: false, writes: false },
  'mcp-requester': { approver: false, admin: false, writes: true },
};

/**
 * Which roles exist on which surface. MCP reader and requester are bearer tokens (HTTP); over
 * stdio, `switchboard mcp --as <member id>` acts as a member, approver or admin; the CLI acts as
 * `--as <member id>`. Anonymous: an unsigned Slack request, an MCP HTTP request without a token.
 * The CLI and stdio have no anonymous caller: whoever starts them can already open the database.
 */
export const ROLES_ON: Record<Surface, readonly Role[]> = {
  slack: ['member', 'approver', 'admin', 'anonymous'],
  'mcp-http': ['mcp-reader', 'mcp-requester', 'anonymous'],
  'mcp-stdio': ['member', 'approver', 'admin'],
  cli: ['member', 'approver', 'admin'],
};

/**
 * Which commands each surface offers. MCP has no approve or deny tool (AI assistants may request
 * spending, never decide on it), no audit tool and no token tool; Slack has no audit or token
 * verb; the CLI has them all. A command a surface lacks is still called, and must be refused as
 * unknown.
 */
const MISSING_ON: Record<Surface, readonly Command[]> = {
  slack: ['audit', 'token create'],
  'mcp-http': [
    'approve',
    'approve own',
    'approve own via token',
    'deny',
    'withdraw own',
    'audit',
    'token create',
  ],
  'mcp-stdio': [
    'approve',
    'approve own',
    'approve own via token',
    'deny',
    'withdraw own',
    'audit',
    'token create',
  ],
  cli: [],
};

export type Outcome = 'allowed' | 'refused' | 'absent' | 'unauthenticated' | 'n/a';

export const SYMBOL: Record<Outcome, string> = {
  allowed: '✓',
  refused: '✗',
  absent: '∅',
  unauthenticated: '401',
  'n/a': '·',
};

export function expected(surface: Surface, role: Role, command: Command): Outcome {
  if (!ROLES_ON[surface].includes(role)) return 'n/a';
  if (role === 'anonymous') return 'unauthenticated';
  if (MISSING_ON[surface].includes(command)) return 'absent';
  const mcp = surface === 'mcp-http' || surface === 'mcp-stdio';
  return POLICY[command]({ ...WHO[role], mcp }) ? 'allowed' : 'refused';
}

export interface Cell {
  surface: Surface;
  role: Role;
  command: Command;
  expected: Outcome;
  observed: Outcome | string;
}

/** The matrix as a Markdown table: one row per command, one column per role a surface has. */
export function renderMatrix(cells: Cell[]): string {
  const columns = SURFACES.flatMap((surface) =>
    ROLES_ON[surface].map((role) => ({ surface, role })),
  );
  const head = columns.map((c) => `${SURFACE_TITLES[c.surface]} ${c.role.replace('mcp-', '')}`);
  const lines = [
    `| command | ${head.join(' | ')} |`,
    `|---|${columns.map(() => ':-:').join('|')}|`,
    ...COMMANDS.map((command) => {
      const row = columns.map(({ surface, role }) => {
        const cell = cells.find(
          (c) => c.surface === surface && c.role === role && c.command === command,
        );
        const outcome = cell?.observed ?? '?';
        return outcome in SYMBOL ? SYMBOL[outcome as Outcome] : `!${outcome}`;
      });
      return `| ${command} | ${row.join(' | ')} |`;
    }),
  ];
  return lines.join('\n');
}
