-- An MCP token acts for its owner (013 gave every token one). What it buys or claims is the
-- owner's, and it counts against the owner's per-member cap; before this, a number bought through
-- a token belonged to the pseudo-member `mcp:<token name>`, and each token had a cap of its own,
-- so a member with several tokens could hold several times the cap.
--
-- The member a request is for is coalesce(on_behalf_of, requester): the token's owner for a
-- request made through a token, else whoever made it. claim_number needs no change: the core now
-- passes it the member (src/core/policy.ts memberOf), not the token.
--
-- Safe to run twice.

-- --- What the per-member cap counts -------------------------------------------------------------
-- As in 001, with a request counted for the member it is for rather than for its requester.
create or replace function switchboard.member_number_count(p_member text)
returns int language sql stable set search_path = switchboard, pg_temp as $$
  select ((select count(*) from switchboard.numbers
           where owner = p_member and status in ('assigned', 'missing'))
        + (select count(*) from switchboard.requests
           where coalesce(on_behalf_of, requester) = p_member
             and status in ('pending', 'approved', 'executing', 'needs_attention')))::int;
$$;

-- `requests mine` and the cap look requests up by the member they are for, too.
create index if not exists requests_on_behalf_of on switchboard.requests (on_behalf_of, created_at desc)
  where on_behalf_of is not null;

-- --- create_purchase_request: the cap is the member's ---------------------------------------------
-- As in 013 (same signature, so no drop), but the cap is checked for the member the request is for,
-- whose row is made here (numbers.owner references members), and under that member's lock, the one
-- claim_number takes: a claim and a request for one member cannot both take the last slot.
-- create_provision_request (013) calls this one and needs no change.
create or replace function switchboard.create_purchase_request(
  p_id text, p_requester text, p_surface text, p_quote_id text, p_area_code text, p_reason text,
  p_expires_at timestamptz, p_member_cap int, p_monthly_budget numeric, p_now timestamptz,
  p_on_behalf_of text default null)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  q switchboard.quotes;
  r switchboard.requests;
  v_member text := coalesce(p_on_behalf_of, p_requester);
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
  if v_member <> p_requester then
    perform switchboard.touch_member(v_member);
  end if;
  -- Member row first, then the member's lock: the order claim_number takes them in.
  perform pg_advisory_xact_lock(hashtext('switchboard.member:' || v_member));
  if p_member_cap is not null then
    v_count := switchboard.member_number_count(v_member);
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

-- --- complete_purchase: the number is the member's ----------------------------------------------
-- As in 001 (never redefined since), recording the number as owned by the member the request is
-- for: the token's owner for a request made through a token. That member's row is made if a
-- request from before this migration never made it.
create or replace function switchboard.complete_purchase(
  p_id text, p_number jsonb, p_order_ref text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  r switchboard.requests;
  n switchboard.numbers;
begin
  select * into r from switchboard.requests where id = p_id for update;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  if r.status = 'done' then
    select * into n from switchboard.numbers where id = r.number_id;
    return jsonb_build_object('status', 'already-done', 'request', to_jsonb(r), 'number', to_jsonb(n));
  end if;
  if r.status not in ('executing', 'needs_attention') then
    return jsonb_build_object('status', 'not-executing', 'request', to_jsonb(r));
  end if;
  insert into switchboard.members (id) values (coalesce(r.on_behalf_of, r.requester))
  on conflict (id) do nothing;
  insert into switchboard.numbers (e164, carrier, carrier_ref, carrier_account, status, owner,
    country, region, locality, number_type, features, monthly_cost, upfront_cost, currency,
    source, request_id, created_at, updated_at)
  values (p_number->>'e164', r.carrier, p_number->>'carrier_ref',
    coalesce(p_number->>'carrier_account', r.carrier_account), 'assigned',
    coalesce(r.on_behalf_of, r.requester),
    p_number->>'country', p_number->>'region', p_number->>'locality',
    coalesce(p_number->>'number_type', 'local'),
    coalesce((select array_agg(f) from jsonb_array_elements_text(p_number->'features') f), '{}'),
    r.monthly_cost, r.upfront_cost, r.currency, 'purchase', r.id, p_now, p_now)
  on conflict (e164) where status <> 'released' do update
    set owner = excluded.owner, status = 'assigned', carrier_ref = excluded.carrier_ref,
        source = 'purchase', request_id = excluded.request_id, monthly_cost = excluded.monthly_cost,
        upfront_cost = excluded.upfront_cost, updated_at = excluded.updated_at
    where switchboard.numbers.owner is null
  returning * into n;
  if not found then
    update switchboard.requests
    set status = 'needs_attention', error_code = 'CONFLICT', updated_at = p_now,
        error_message = 'The carrier sold us the number, but our records show it as another member''s. An admin must check it.'
    where id = p_id returning * into r;
    return jsonb_build_object('status', 'conflict', 'request', to_jsonb(r));
  end if;
  update switchboard.requests
  set status = 'done', number_id = n.id, carrier_order_ref = coalesce(p_order_ref, carrier_order_ref),
      error_code = null, error_message = null, updated_at = p_now
  where id = p_id returning * into r;
  return jsonb_build_object('status', 'done', 'request', to_jsonb(r), 'number', to_jsonb(n));
end $$;

-- --- What tokens did before this migration, now their owners' -----------------------------------
-- Requests made through a token before 013 recorded no owner; numbers bought or claimed through a
-- token belonged to `mcp:<token name>`, which neither the token (it now acts as its owner) nor the
-- owner could release or link. Both move to the token's owner. A second run finds nothing to move.
update switchboard.requests r
set on_behalf_of = t.owner
from switchboard.api_tokens t
where r.requester = 'mcp:' || t.name and r.on_behalf_of is null;

insert into switchboard.members (id)
select distinct t.owner
from switchboard.api_tokens t
join switchboard.numbers n on n.owner = 'mcp:' || t.name
on conflict (id) do nothing;

update switchboard.numbers n
set owner = t.owner, updated_at = now()
from switchboard.api_tokens t
where n.owner = 'mcp:' || t.name;
