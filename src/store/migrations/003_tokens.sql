-- Bearer tokens for MCP over HTTP (issue 6). Only the SHA-256 of a token is stored: the token is
-- shown once, when it is made, and cannot be recovered from the database. A token has a role:
-- 'reader' (read tools only) or 'requester' (may also request purchases, claim, link, release,
-- within policy). No token can approve: approvals happen in Slack or the CLI.
--
-- Safe to run twice, like 001_init.sql.

create table if not exists switchboard.api_tokens (
  id bigint generated always as identity primary key,
  name text not null unique check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  role text not null check (role in ('reader', 'requester')),
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  created_by text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);

-- Makes a token. A name in use (revoked or not) is refused: names identify tokens in the audit
-- trail (`mcp:<name>`), so one name never means two tokens.
create or replace function switchboard.create_api_token(
  p_name text, p_role text, p_token_hash text, p_created_by text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare t switchboard.api_tokens;
begin
  insert into switchboard.api_tokens (name, role, token_hash, created_by, created_at)
  values (p_name, p_role, p_token_hash, p_created_by, p_now)
  on conflict (name) do nothing
  returning * into t;
  if not found then
    select * into t from switchboard.api_tokens where name = p_name;
    return jsonb_build_object('status', 'name-taken', 'token', to_jsonb(t) - 'token_hash');
  end if;
  return jsonb_build_object('status', 'created', 'token', to_jsonb(t) - 'token_hash');
end $$;

create or replace function switchboard.revoke_api_token(p_name text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare t switchboard.api_tokens;
begin
  update switchboard.api_tokens set revoked_at = p_now
  where name = p_name and revoked_at is null
  returning * into t;
  if found then return jsonb_build_object('status', 'revoked', 'token', to_jsonb(t) - 'token_hash'); end if;
  select * into t from switchboard.api_tokens where name = p_name;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  return jsonb_build_object('status', 'already-revoked', 'token', to_jsonb(t) - 'token_hash');
end $$;

-- The live token with this hash, or {"status": "not-found"} (unknown or revoked).
create or replace function switchboard.find_api_token(p_token_hash text)
returns jsonb language plpgsql stable set search_path = switchboard, pg_temp as $$
declare t switchboard.api_tokens;
begin
  select * into t from switchboard.api_tokens where token_hash = p_token_hash and revoked_at is null;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  return jsonb_build_object('status', 'found', 'token', to_jsonb(t) - 'token_hash');
end $$;

create or replace function switchboard.touch_api_token(p_id bigint, p_now timestamptz)
returns void language sql set search_path = switchboard, pg_temp as $$
  update switchboard.api_tokens set last_used_at = p_now where id = p_id;
$$;
