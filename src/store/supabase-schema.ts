/**
 * The part of schema `switchboard` the supabase-js store touches, as supabase-js `Database` types:
 * the columns it filters and orders on, and the named arguments of every SQL function it calls.
 * PostgREST binds function arguments by name, so a misspelt argument here is a compile error
 * rather than a "function not found" in production. Row types list only the columns the store
 * filters or orders on (rows are mapped by src/store/rows.ts). Kept by hand: the SQL in
 * src/store/migrations is the source of truth, and the store contract suite, run on this store
 * too, calls every function through the PostgREST fake on the migrated database.
 */
type Ts = string; // timestamptz as ISO text
type Json = unknown;

interface Table<Row> {
  Row: Row;
  // The store never writes tables directly: every change is an rpc to a SQL function.
  Insert: Record<string, never>;
  Update: Record<string, never>;
  Relationships: [];
}

interface Fn<Args, Returns> {
  Args: Args;
  Returns: Returns;
}

/**
 * create_purchase_request's arguments. create_provision_request takes the same ones plus its own
 * and hands them to create_purchase_request (migration 013), so the two lists change together. A
 * type, not an interface: supabase-js wants function arguments assignable to a Record.
 */
type CreateRequestArgs = {
  p_id: string;
  p_requester: string;
  p_surface: string;
  p_quote_id: string;
  p_area_code: string | null;
  p_reason: string | null;
  p_expires_at: Ts;
  p_member_cap: number | null;
  p_monthly_budget: number | null;
  p_now: Ts;
  p_on_behalf_of?: string | null;
};

export interface SwitchboardDatabase {
  switchboard: {
    Tables: {
      members: Table<{
        id: string;
        display_name: string | null;
        roles: string[];
        auth_user_id: string | null;
        created_at: Ts;
        last_seen_at: Ts;
      }>;
      quotes: Table<{
        id: string;
        e164: string;
        carrier: string;
        expires_at: Ts;
        created_at: Ts;
      }>;
      requests: Table<{
        id: string;
        status: string;
        requester: string;
        on_behalf_of: string | null;
        link_status: string | null;
        created_at: Ts;
      }>;
      numbers: Table<{
        id: number;
        e164: string;
        status: string;
        owner: string | null;
        released_at: Ts | null;
      }>;
      audit_events: Table<{
        id: number;
        at: Ts;
        actor: string;
        target: string | null;
        request_id: string | null;
        detail: Json | null;
      }>;
      sync_runs: Table<{ id: string; started_at: Ts }>;
      api_tokens: Table<{
        id: number;
        name: string;
        role: string;
        owner: string;
        created_by: string;
        created_at: Ts;
        revoked_at: Ts | null;
        last_used_at: Ts | null;
        token_hash: string;
      }>;
      schema_migrations: Table<{ name: string; applied_at: Ts }>;
    };
    Views: Record<string, never>;
    Functions: {
      touch_member: Fn<{ p_id: string; p_display_name: string | null }, undefined>;
      set_member_roles: Fn<{ p_id: string; p_roles: string[] }, Json>;
      save_quotes: Fn<{ p_quotes: Json }, undefined>;
      create_purchase_request: Fn<CreateRequestArgs, Json>;
      create_provision_request: Fn<
        CreateRequestArgs & { p_agent: string | null; p_fallback: string | null },
        Json
      >;
      set_request_link: Fn<
        { p_id: string; p_status: string; p_error: string | null; p_now: Ts },
        Json
      >;
      import_number: Fn<{ p_carrier: string; p_row: Json; p_now: Ts }, Json>;
      set_request_hold: Fn<{ p_id: string; p_hold_ref: string }, Json>;
      decide_request: Fn<
        { p_id: string; p_decider: string; p_approve: boolean; p_note: string | null; p_now: Ts },
        Json
      >;
      begin_execution: Fn<{ p_id: string; p_now: Ts }, Json>;
      retarget_request: Fn<{ p_id: string; p_quote_id: string; p_now: Ts }, Json>;
      set_order_ref: Fn<{ p_id: string; p_order_ref: string; p_now: Ts }, Json>;
      complete_purchase: Fn<
        { p_id: string; p_number: Json; p_order_ref: string | null; p_now: Ts },
        Json
      >;
      fail_request: Fn<
        {
          p_id: string;
          p_status: string;
          p_error_code: string;
          p_error_message: string;
          p_now: Ts;
        },
        Json
      >;
      expire_requests: Fn<{ p_now: Ts }, Json>;
      claim_number: Fn<{ p_e164: string; p_member: string; p_member_cap: number | null }, Json>;
      // Migration 023
      unclaim_number: Fn<{ p_number_id: number; p_owner: string; p_now: Ts }, Json>;
      release_number: Fn<{ p_number_id: number; p_now: Ts }, Json>;
      link_number: Fn<
        {
          p_number_id: number;
          p_platform: string;
          p_agent_id: string;
          p_agent_ref: string | null;
          p_now: Ts;
        },
        Json
      >;
      unlink_number: Fn<{ p_number_id: number; p_now: Ts }, Json>;
      sync_begin: Fn<{ p_run_id: string; p_carrier: string; p_actor: string; p_now: Ts }, Json>;
      sync_batch: Fn<{ p_run_id: string; p_carrier: string; p_rows: Json }, Json>;
      sync_finish: Fn<{ p_run_id: string; p_now: Ts }, Json>;
      sync_fail: Fn<{ p_run_id: string; p_error: string; p_now: Ts }, Json>;
      record_audit: Fn<{ p_event: Json }, undefined>;
      try_lease: Fn<{ p_name: string; p_holder: string; p_ttl_ms: number }, boolean>;
      release_lease: Fn<{ p_name: string; p_holder: string }, boolean>;
      // Shared rate limits (migration 020)
      rate_take: Fn<{ p_key: string; p_per_minute: number; p_burst: number }, Json>;
      rate_forget: Fn<{ p_idle_ms: number }, number>;
      create_api_token: Fn<
        {
          p_name: string;
          p_role: string;
          p_token_hash: string;
          p_created_by: string;
          p_now: Ts;
          p_owner?: string | null;
        },
        Json
      >;
      revoke_api_token: Fn<{ p_name: string; p_now: Ts }, Json>;
      find_api_token: Fn<{ p_token_hash: string }, Json>;
      touch_api_token: Fn<{ p_id: number; p_now: Ts }, undefined>;
      save_slack_message: Fn<
        { p_request_id: string; p_channel: string; p_ts: string; p_status: string },
        undefined
      >;
      claim_slack_message: Fn<
        { p_channel: string; p_ts: string; p_from: string; p_to: string },
        boolean
      >;
      list_slack_messages: Fn<{ p_request_id: string }, Json>;
      list_stale_slack_messages: Fn<{ p_limit: number }, Json>;
      claim_slack_announcement: Fn<{ p_request_id: string }, boolean>;
      release_slack_announcement: Fn<{ p_request_id: string }, undefined>;
      number_totals: Fn<{ p_owner: string | null; p_scope: string }, Json>;
      number_totals_in: Fn<{ p_owner: string | null; p_scope: string; p_prefix: string }, Json>;
      list_unannounced_requests: Fn<{ p_now: Ts; p_limit: number }, Json>;
      list_unnoticed_outcomes: Fn<{ p_since: Ts; p_limit: number }, Json>;
      claim_slack_notice: Fn<{ p_request_id: string; p_status: string }, boolean>;
    };
  };
}
