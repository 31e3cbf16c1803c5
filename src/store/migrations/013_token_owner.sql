-- Every MCP token has an owning member, and a purchase requested through a token records on whose
-- behalf it was made (the token's owner). Without this an approver could make a requester token
-- for their own assistant, request through it (requester `mcp:<token name>`) and approve their own
-- purchase: the self-approval rule now compares the approver with the requester *and* with
-- `on_behalf_of` (src/core/policy.ts).
--
-- Safe to run twice, like every migration.

-- --- Token owners ------------------------------------------------------------------------------
-- Tokens made before this migration belong to whoever made them. Member ids are not a foreign
-- key here, as created_by is not: the CLI's local operator (`local`) makes tokens too.
alter table switchboard.api_tokens add column if not exists owner text;
update switchboard.api_tokens set owner = created_by where owner is null;
alter table switchboard.api_tokens alter column owner set not null;

-- One create_api_token, with the owner last and optional (null: the maker owns it), so a replica
-- still running the previous build keeps working. The old signature is dropped first: PostgREST
-- (and the supabase-js store) cannot choose between overloads.
drop function if exists switchboard.create_api_token(text, text, text, text, timestamptz);
create or replace function switchboard.create_api_token(
  p_name text, p_role text, p_token_hash text, p_created_by text, p_now timestamptz,
  p_owner text default null)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare t switchboard.api_tokens;
begin
  insert into switchboard.api_tokens (name, role, token_hash, created_by, owner, created_at)
  values (p_name, p_role, p_token_hash, p_created_by, coalesce(p_owner, p_created_by), p_now)
  on conflict (name) do nothing
  returning * into t;
  if not found then
    select * into t from switchboard.api_tokens where name = p_name;
    return jsonb_build_object('status', 'name-taken', 'token', to_jsonb(t) - 'token_hash');
  end if;
  return jsonb_build_object('status', 'created', 'token', to_jsonb(t) - 'token_hash');
end $$;

-- --- Requests made on a member's behalf ---------------------------------------------------------
alter table switchboard.requests add column if not exists on_behalf_of text;

-- create_purchase_request and create_provision_request as before (001, 006), with the member on
-- whose behalf the request is made last and optional. Same reasons as above for dropping first.
drop function if exists switchboard.create_purchase_request(
  text, text, text, text, text, text, timestamptz, int, numeric, timestamptz);
create or replace function switchboard.create_purchase_request(
  p_id text, p_requester text, p_surface text, p_quote_id text, p_area_code text, p_reason text,
  p_expires_at timestamptz, p_member_cap int, p_monthly_budget numeric, p_now timestamptz,
  p_on_behalf_of text default null)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  q switchboard.quotes;
  r switchboard.requests;
  v_count int;
  v_spend numeric;
begin
  -- Caps are checked and the request written under one lock, so two requests cannot both fit
  -- into the last slot of the budget.
  perform pg_advisory_xact_lock(hashtext('switchboard.spend'));
  select * into q from switchboard.quotes where id = p_quote_id;
  if not found then
    return jsonb_build_object('status', 'quote-not-found');
  end if;
  if q.expires_at <= p_now then
    return jsonb_build_object('status', 'quote-expired', 'quote', to_jsonb(q));
  end if;
  if exists (select 1 from switchboard.numbers where e164 = q.e164 and status <> 'released') then
    return jsonb_build_object('status', 'already-owned');
  end if;
  select * into r from switchboard.requests
  where e164 = q.e164 and status in ('pending', 'approved', 'executing', 'needs_attention');
  if found then
    return jsonb_build_object('status', 'duplicate', 'request', to_jsonb(r));
  end if;
  perform switchboard.touch_member(p_requester);
  if p_member_cap is not null then
    v_count := switchboard.member_number_count(p_requester);
    if v_count >= p_member_cap then
      return jsonb_build_object('status', 'member-cap', 'count', v_count, 'cap', p_member_cap);
    end if;
  end if;
  if p_monthly_budget is not null then
    v_spend := switchboard.committed_monthly_spend();
    if v_spend + q.monthly_cost > p_monthly_budget then
      return jsonb_build_object('status', 'over-budget', 'committed', v_spend,
        'budget', p_monthly_budget, 'cost', q.monthly_cost);
    end if;
  end if;
  insert into switchboard.requests (id, status, requester, on_behalf_of, surface, quote_id, e164,
    area_code, carrier, carrier_account, monthly_cost, upfront_cost, currency, reason, expires_at,
    created_at, updated_at)
  values (p_id, 'pending', p_requester, p_on_behalf_of, p_surface, q.id, q.e164, p_area_code,
    q.carrier, q.carrier_account, q.monthly_cost, q.upfront_cost, q.currency, p_reason,
    p_expires_at, p_now, p_now)
  returning * into r;
  return jsonb_build_object('status', 'created', 'request', to_jsonb(r));
end $$;

drop function if exists switchboard.create_provision_request(
  text, text, text, text, text, text, timestamptz, int, numeric, timestamptz, text, text);
create or replace function switchboard.create_provision_request(
  p_id text, p_requester text, p_surface text, p_quote_id text, p_area_code text, p_reason text,
  p_expires_at timestamptz, p_member_cap int, p_monthly_budget numeric, p_now timestamptz,
  p_agent text, p_fallback text, p_on_behalf_of text default null)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  v_outcome jsonb;
  r switchboard.requests;
begin
  v_outcome := switchboard.create_purchase_request(p_id, p_requester, p_surface, p_quote_id,
    p_area_code, p_reason, p_expires_at, p_member_cap, p_monthly_budget, p_now, p_on_behalf_of);
  if v_outcome->>'status' <> 'created' then
    return v_outcome;
  end if;
  update switchboard.requests
  set provision_agent = p_agent, provision_fallback = p_fallback,
      link_status = case when p_agent is null then null else 'pending' end
  where id = p_id
  returning * into r;
  return jsonb_build_object('status', 'created', 'request', to_jsonb(r));
end $$;
