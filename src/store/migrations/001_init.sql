-- Switchboard's one schema. Every store (PGlite, PostgreSQL, Supabase) runs this file, and every
-- state change goes through one of the functions below, so that all stores share one
-- implementation of the rules. Each function is one transaction; each lifecycle move is a
-- compare-and-set (UPDATE ... WHERE status = <expected>), so double clicks, retries and replicas
-- cannot move a request twice. Functions return jsonb: {"status": "<outcome>", ...}.
--
-- Safe to run twice: every statement is idempotent, and the runner records applied files.

create schema if not exists switchboard;

create table if not exists switchboard.members (
  id text primary key check (id <> ''),            -- Slack user id, e.g. U01ALICE
  display_name text,
  roles text[] not null default '{}' check (roles <@ array['approver', 'admin']::text[]),
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now()
);

create table if not exists switchboard.numbers (
  id bigint generated always as identity primary key,
  e164 text not null check (e164 ~ '^\+[1-9][0-9]{6,14}$'),
  carrier text not null,
  carrier_ref text,                                 -- the carrier's id for the number
  carrier_account text,                             -- Twilio subaccount SID, when not the main one
  status text not null check (status in ('available', 'assigned', 'missing', 'released')),
  owner text references switchboard.members (id),
  country text,
  region text,
  locality text,
  number_type text not null default 'local',
  features text[] not null default '{}',
  monthly_cost numeric(12, 4),
  upfront_cost numeric(12, 4),
  currency text not null default 'USD',
  agent_platform text,
  agent_id text,
  agent_ref text,                                   -- the platform's id for the link
  linked_at timestamptz,
  source text not null check (source in ('purchase', 'sync', 'import')),
  request_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  released_at timestamptz,
  check (status <> 'available' or owner is null),
  check (status <> 'assigned' or owner is not null),
  check ((agent_id is null) = (agent_platform is null))
);
-- One live record per number; released ones stay as history.
create unique index if not exists numbers_live_e164 on switchboard.numbers (e164) where status <> 'released';
create index if not exists numbers_owner on switchboard.numbers (owner) where status <> 'released';
create index if not exists numbers_carrier on switchboard.numbers (carrier, status);

-- Server-made quotes: what a search found and at what price. Approval binds to these rows.
create table if not exists switchboard.quotes (
  id text primary key,
  e164 text not null,
  carrier text not null,
  carrier_account text,
  country text,
  region text,
  locality text,
  number_type text not null,
  features text[] not null default '{}',
  monthly_cost numeric(12, 4) not null,
  upfront_cost numeric(12, 4) not null,
  currency text not null,
  sandbox boolean not null default false,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index if not exists quotes_e164 on switchboard.quotes (e164, created_at desc);
create index if not exists quotes_expires on switchboard.quotes (expires_at);

create table if not exists switchboard.requests (
  id text primary key,
  kind text not null default 'purchase' check (kind in ('purchase')),
  status text not null check (status in
    ('pending', 'approved', 'executing', 'done', 'failed', 'needs_attention', 'denied', 'expired')),
  requester text not null references switchboard.members (id),
  surface text not null,
  quote_id text not null references switchboard.quotes (id),
  e164 text not null,
  area_code text,                                   -- set for `buy <area code>`: the next quote may be tried
  carrier text not null,
  carrier_account text,
  monthly_cost numeric(12, 4) not null,             -- the approved price, copied from the quote
  upfront_cost numeric(12, 4) not null,
  currency text not null,
  reason text,
  hold_ref text,                                    -- carrier reservation while pending
  decided_by text,
  decided_at timestamptz,
  decision_note text,
  expires_at timestamptz not null,
  attempts int not null default 0,
  carrier_order_ref text,
  error_code text,
  error_message text,
  number_id bigint references switchboard.numbers (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists requests_status on switchboard.requests (status, expires_at);
create index if not exists requests_requester on switchboard.requests (requester, created_at desc);
-- At most one live purchase request per number.
create unique index if not exists requests_live_e164 on switchboard.requests (e164)
  where status in ('pending', 'approved', 'executing', 'needs_attention');

create table if not exists switchboard.audit_events (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor text not null,
  surface text not null,
  command text not null,
  target text,
  outcome text not null check (outcome in ('ok', 'refused', 'failed')),
  error_code text,
  message text,
  monthly_cost numeric(12, 4),
  upfront_cost numeric(12, 4),
  currency text,
  request_id text,
  duration_ms int,
  detail jsonb
);
create index if not exists audit_at on switchboard.audit_events (at desc);
create index if not exists audit_target on switchboard.audit_events (target, at desc);
create index if not exists audit_actor on switchboard.audit_events (actor, at desc);

create table if not exists switchboard.sync_runs (
  id text primary key,
  carrier text not null,
  started_by text not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  status text not null check (status in ('running', 'succeeded', 'failed')),
  seen int not null default 0,
  new int not null default 0,
  updated int not null default 0,
  missing int not null default 0,
  error text
);
create index if not exists sync_runs_carrier on switchboard.sync_runs (carrier, started_at desc);

-- Numbers seen by a running sync, so that the end of the run can mark the rest missing without
-- holding the account in memory. Emptied when the run ends.
create table if not exists switchboard.sync_seen (
  run_id text not null,
  e164 text not null,
  primary key (run_id, e164)
);

-- ---------------------------------------------------------------------------------------------
-- Members

create or replace function switchboard.touch_member(p_id text, p_display_name text default null)
returns void language sql set search_path = switchboard, pg_temp as $$
  insert into switchboard.members (id, display_name) values (p_id, p_display_name)
  on conflict (id) do update
    set last_seen_at = now(),
        display_name = coalesce(excluded.display_name, switchboard.members.display_name);
$$;

create or replace function switchboard.set_member_roles(p_id text, p_roles text[])
returns jsonb language sql set search_path = switchboard, pg_temp as $$
  insert into switchboard.members (id, roles) values (p_id, p_roles)
  on conflict (id) do update set roles = excluded.roles
  returning jsonb_build_object('status', 'ok', 'member', to_jsonb(members.*));
$$;

-- ---------------------------------------------------------------------------------------------
-- Quotes and purchase requests

create or replace function switchboard.save_quotes(p_quotes jsonb)
returns void language plpgsql set search_path = switchboard, pg_temp as $$
begin
  insert into switchboard.quotes (id, e164, carrier, carrier_account, country, region, locality,
    number_type, features, monthly_cost, upfront_cost, currency, sandbox, created_at, expires_at)
  select q.id, q.e164, q.carrier, q.carrier_account, q.country, q.region, q.locality,
    q.number_type, coalesce(q.features, '{}'), q.monthly_cost, q.upfront_cost, q.currency,
    coalesce(q.sandbox, false), coalesce(q.created_at, now()), q.expires_at
  from jsonb_to_recordset(p_quotes) as q(id text, e164 text, carrier text, carrier_account text,
    country text, region text, locality text, number_type text, features text[],
    monthly_cost numeric, upfront_cost numeric, currency text, sandbox boolean,
    created_at timestamptz, expires_at timestamptz);
  -- Old quotes nobody asked to buy are of no further use.
  delete from switchboard.quotes q
  where q.expires_at < now() - interval '1 day'
    and not exists (select 1 from switchboard.requests r where r.quote_id = q.id);
end $$;

-- The team's committed monthly spend: numbers we hold plus purchases in flight.
create or replace function switchboard.committed_monthly_spend()
returns numeric language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce((select sum(monthly_cost) from switchboard.numbers
                   where status in ('available', 'assigned', 'missing')), 0)
       + coalesce((select sum(monthly_cost) from switchboard.requests
                   where status in ('pending', 'approved', 'executing', 'needs_attention')), 0);
$$;

-- How many numbers a member holds or has asked for: what the per-member cap counts.
create or replace function switchboard.member_number_count(p_member text)
returns int language sql stable set search_path = switchboard, pg_temp as $$
  select ((select count(*) from switchboard.numbers
           where owner = p_member and status in ('assigned', 'missing'))
        + (select count(*) from switchboard.requests
           where requester = p_member and status in ('pending', 'approved', 'executing', 'needs_attention')))::int;
$$;

create or replace function switchboard.create_purchase_request(
  p_id text, p_requester text, p_surface text, p_quote_id text, p_area_code text, p_reason text,
  p_expires_at timestamptz, p_member_cap int, p_monthly_budget numeric, p_now timestamptz)
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
  insert into switchboard.requests (id, status, requester, surface, quote_id, e164, area_code,
    carrier, carrier_account, monthly_cost, upfront_cost, currency, reason, expires_at,
    created_at, updated_at)
  values (p_id, 'pending', p_requester, p_surface, q.id, q.e164, p_area_code, q.carrier,
    q.carrier_account, q.monthly_cost, q.upfront_cost, q.currency, p_reason, p_expires_at,
    p_now, p_now)
  returning * into r;
  return jsonb_build_object('status', 'created', 'request', to_jsonb(r));
end $$;

create or replace function switchboard.set_request_hold(p_id text, p_hold_ref text)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare r switchboard.requests;
begin
  update switchboard.requests set hold_ref = p_hold_ref, updated_at = now()
  where id = p_id and status = 'pending' returning * into r;
  if not found then return jsonb_build_object('status', 'not-pending'); end if;
  return jsonb_build_object('status', 'ok', 'request', to_jsonb(r));
end $$;

-- pending -> approved | denied, or -> expired when its time is up.
create or replace function switchboard.decide_request(
  p_id text, p_decider text, p_approve boolean, p_note text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare r switchboard.requests;
begin
  update switchboard.requests
  set status = case when p_approve then 'approved' else 'denied' end,
      decided_by = p_decider, decided_at = p_now, decision_note = p_note, updated_at = p_now
  where id = p_id and status = 'pending' and expires_at > p_now
  returning * into r;
  if found then
    return jsonb_build_object('status', 'decided', 'request', to_jsonb(r));
  end if;
  update switchboard.requests set status = 'expired', updated_at = p_now
  where id = p_id and status = 'pending' and expires_at <= p_now
  returning * into r;
  if found then
    return jsonb_build_object('status', 'expired', 'request', to_jsonb(r));
  end if;
  select * into r from switchboard.requests where id = p_id;
  if not found then
    return jsonb_build_object('status', 'not-found');
  end if;
  return jsonb_build_object('status', 'not-pending', 'request', to_jsonb(r));
end $$;

-- approved -> executing: the intent is written before the carrier is called.
create or replace function switchboard.begin_execution(p_id text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare r switchboard.requests;
begin
  update switchboard.requests
  set status = 'executing', attempts = attempts + 1, updated_at = p_now
  where id = p_id and status = 'approved'
  returning * into r;
  if found then
    return jsonb_build_object('status', 'executing', 'request', to_jsonb(r));
  end if;
  select * into r from switchboard.requests where id = p_id;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  return jsonb_build_object('status', 'not-approved', 'request', to_jsonb(r));
end $$;

-- While executing a `buy <area code>`, move to another quote when the first number was taken.
-- Never to a higher monthly price than the one approved.
create or replace function switchboard.retarget_request(p_id text, p_quote_id text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  r switchboard.requests;
  q switchboard.quotes;
begin
  select * into q from switchboard.quotes where id = p_quote_id;
  if not found then return jsonb_build_object('status', 'quote-not-found'); end if;
  if exists (select 1 from switchboard.numbers where e164 = q.e164 and status <> 'released')
     or exists (select 1 from switchboard.requests where e164 = q.e164 and id <> p_id
                and status in ('pending', 'approved', 'executing', 'needs_attention')) then
    return jsonb_build_object('status', 'taken');
  end if;
  update switchboard.requests
  set quote_id = q.id, e164 = q.e164, carrier = q.carrier, carrier_account = q.carrier_account,
      upfront_cost = q.upfront_cost, monthly_cost = q.monthly_cost, updated_at = p_now
  where id = p_id and status = 'executing' and q.monthly_cost <= monthly_cost
    and q.upfront_cost <= upfront_cost
  returning * into r;
  if not found then return jsonb_build_object('status', 'refused'); end if;
  return jsonb_build_object('status', 'ok', 'request', to_jsonb(r));
end $$;

create or replace function switchboard.set_order_ref(p_id text, p_order_ref text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare r switchboard.requests;
begin
  update switchboard.requests set carrier_order_ref = p_order_ref, updated_at = p_now
  where id = p_id and status in ('executing', 'needs_attention') returning * into r;
  if not found then return jsonb_build_object('status', 'not-executing'); end if;
  return jsonb_build_object('status', 'ok', 'request', to_jsonb(r));
end $$;

-- executing | needs_attention -> done, recording the number as the requester's. Idempotent: a
-- second call for a done request returns it unchanged. A number that a sync imported meanwhile
-- (in the pool) is adopted rather than duplicated.
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
  insert into switchboard.numbers (e164, carrier, carrier_ref, carrier_account, status, owner,
    country, region, locality, number_type, features, monthly_cost, upfront_cost, currency,
    source, request_id, created_at, updated_at)
  values (p_number->>'e164', r.carrier, p_number->>'carrier_ref',
    coalesce(p_number->>'carrier_account', r.carrier_account), 'assigned', r.requester,
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

-- executing | approved | needs_attention -> failed | needs_attention.
create or replace function switchboard.fail_request(
  p_id text, p_status text, p_error_code text, p_error_message text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare r switchboard.requests;
begin
  if p_status not in ('failed', 'needs_attention') then
    raise exception 'fail_request: status must be failed or needs_attention, not %', p_status;
  end if;
  update switchboard.requests
  set status = p_status, error_code = p_error_code, error_message = p_error_message, updated_at = p_now
  where id = p_id and status in ('approved', 'executing', 'needs_attention')
  returning * into r;
  if found then return jsonb_build_object('status', 'ok', 'request', to_jsonb(r)); end if;
  select * into r from switchboard.requests where id = p_id;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  return jsonb_build_object('status', 'not-executing', 'request', to_jsonb(r));
end $$;

-- pending -> expired for every request whose time is up; returns those it expired.
create or replace function switchboard.expire_requests(p_now timestamptz)
returns jsonb language sql set search_path = switchboard, pg_temp as $$
  with expired as (
    update switchboard.requests set status = 'expired', updated_at = p_now
    where status = 'pending' and expires_at <= p_now
    returning *
  )
  select coalesce(jsonb_agg(to_jsonb(expired.*)), '[]'::jsonb) from expired;
$$;

-- ---------------------------------------------------------------------------------------------
-- Numbers

create or replace function switchboard.claim_number(p_e164 text, p_member text, p_member_cap int)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  n switchboard.numbers;
  v_count int;
begin
  perform switchboard.touch_member(p_member);
  -- One member's claims are serialised so the cap cannot be overrun by claims in parallel.
  perform pg_advisory_xact_lock(hashtext('switchboard.member:' || p_member));
  select * into n from switchboard.numbers where e164 = p_e164 and status <> 'released';
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  if n.owner = p_member then
    return jsonb_build_object('status', 'already-yours', 'number', to_jsonb(n));
  end if;
  if p_member_cap is not null then
    v_count := switchboard.member_number_count(p_member);
    if v_count >= p_member_cap then
      return jsonb_build_object('status', 'member-cap', 'count', v_count, 'cap', p_member_cap);
    end if;
  end if;
  update switchboard.numbers set owner = p_member, status = 'assigned', updated_at = now()
  where id = n.id and status = 'available' and owner is null
  returning * into n;
  if found then return jsonb_build_object('status', 'claimed', 'number', to_jsonb(n)); end if;
  select * into n from switchboard.numbers where e164 = p_e164 and status <> 'released';
  if n.status = 'missing' then return jsonb_build_object('status', 'missing', 'number', to_jsonb(n)); end if;
  return jsonb_build_object('status', 'held', 'owner', n.owner, 'number', to_jsonb(n));
end $$;

-- Records a carrier release. The caller has released it at the carrier; a linked number is refused
-- here too, so that no path can forget to unlink first.
create or replace function switchboard.release_number(p_number_id bigint, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare n switchboard.numbers;
begin
  update switchboard.numbers set status = 'released', released_at = p_now, updated_at = p_now
  where id = p_number_id and status <> 'released' and agent_id is null
  returning * into n;
  if found then return jsonb_build_object('status', 'released', 'number', to_jsonb(n)); end if;
  select * into n from switchboard.numbers where id = p_number_id;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  if n.status = 'released' then return jsonb_build_object('status', 'already-released', 'number', to_jsonb(n)); end if;
  return jsonb_build_object('status', 'linked', 'number', to_jsonb(n));
end $$;

create or replace function switchboard.link_number(
  p_number_id bigint, p_platform text, p_agent_id text, p_agent_ref text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare n switchboard.numbers;
begin
  update switchboard.numbers
  set agent_platform = p_platform, agent_id = p_agent_id, agent_ref = p_agent_ref,
      linked_at = p_now, updated_at = p_now
  where id = p_number_id and status in ('available', 'assigned')
  returning * into n;
  if found then return jsonb_build_object('status', 'linked', 'number', to_jsonb(n)); end if;
  return jsonb_build_object('status', 'not-linkable');
end $$;

create or replace function switchboard.unlink_number(p_number_id bigint, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare n switchboard.numbers;
begin
  update switchboard.numbers
  set agent_platform = null, agent_id = null, agent_ref = null, linked_at = null, updated_at = p_now
  where id = p_number_id and agent_id is not null
  returning * into n;
  if found then return jsonb_build_object('status', 'unlinked', 'number', to_jsonb(n)); end if;
  return jsonb_build_object('status', 'not-linked');
end $$;

-- ---------------------------------------------------------------------------------------------
-- Sync: begin, batches of upserts, finish (mark the unseen missing) or fail.

create or replace function switchboard.sync_begin(
  p_run_id text, p_carrier text, p_actor text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare s switchboard.sync_runs;
begin
  perform pg_advisory_xact_lock(hashtext('switchboard.sync:' || p_carrier));
  -- A run that has said nothing for 30 minutes died with its process.
  update switchboard.sync_runs set status = 'failed', finished_at = p_now,
    error = 'abandoned: the process running it stopped'
  where carrier = p_carrier and status = 'running' and started_at < p_now - interval '30 minutes';
  select * into s from switchboard.sync_runs where carrier = p_carrier and status = 'running';
  if found then return jsonb_build_object('status', 'busy', 'run', to_jsonb(s)); end if;
  insert into switchboard.sync_runs (id, carrier, started_by, started_at, status)
  values (p_run_id, p_carrier, p_actor, p_now, 'running') returning * into s;
  return jsonb_build_object('status', 'started', 'run', to_jsonb(s));
end $$;

-- Upserts one page of the carrier's numbers. Rows that did not change are not written.
create or replace function switchboard.sync_batch(p_run_id text, p_carrier text, p_rows jsonb)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  v_seen int;
  v_new int;
  v_updated int;
begin
  if not exists (select 1 from switchboard.sync_runs where id = p_run_id and status = 'running') then
    return jsonb_build_object('status', 'not-running');
  end if;
  create temporary table if not exists sync_incoming (
    e164 text primary key, carrier_ref text, carrier_account text, country text, region text,
    locality text, number_type text, features text[], monthly_cost numeric, upfront_cost numeric,
    currency text
  ) on commit drop;
  insert into sync_incoming
  select distinct on (x.e164) x.e164, x.carrier_ref, x.carrier_account, x.country, x.region,
    x.locality, coalesce(x.number_type, 'local'), coalesce(x.features, '{}'), x.monthly_cost,
    x.upfront_cost, coalesce(x.currency, 'USD')
  from jsonb_to_recordset(p_rows) as x(e164 text, carrier_ref text, carrier_account text,
    country text, region text, locality text, number_type text, features text[],
    monthly_cost numeric, upfront_cost numeric, currency text);
  get diagnostics v_seen = row_count;

  insert into switchboard.sync_seen (run_id, e164)
  select p_run_id, e164 from sync_incoming on conflict do nothing;

  update switchboard.numbers n
  set carrier = p_carrier, carrier_ref = i.carrier_ref, carrier_account = i.carrier_account,
      country = coalesce(i.country, n.country), region = coalesce(i.region, n.region),
      locality = coalesce(i.locality, n.locality), number_type = i.number_type,
      features = i.features, monthly_cost = coalesce(i.monthly_cost, n.monthly_cost),
      upfront_cost = coalesce(i.upfront_cost, n.upfront_cost), currency = i.currency,
      status = case when n.status = 'missing'
                    then case when n.owner is null then 'available' else 'assigned' end
                    else n.status end,
      updated_at = now()
  from sync_incoming i
  where n.e164 = i.e164 and n.status <> 'released'
    and (n.carrier is distinct from p_carrier
      or n.carrier_ref is distinct from i.carrier_ref
      or n.carrier_account is distinct from i.carrier_account
      or (i.country is not null and n.country is distinct from i.country)
      or (i.region is not null and n.region is distinct from i.region)
      or (i.locality is not null and n.locality is distinct from i.locality)
      or n.number_type is distinct from i.number_type
      or n.features is distinct from i.features
      or (i.monthly_cost is not null and n.monthly_cost is distinct from i.monthly_cost)
      or (i.upfront_cost is not null and n.upfront_cost is distinct from i.upfront_cost)
      or n.currency is distinct from i.currency
      or n.status = 'missing');
  get diagnostics v_updated = row_count;

  -- Numbers nobody owns land in the pool.
  insert into switchboard.numbers (e164, carrier, carrier_ref, carrier_account, status, country,
    region, locality, number_type, features, monthly_cost, upfront_cost, currency, source)
  select i.e164, p_carrier, i.carrier_ref, i.carrier_account, 'available', i.country, i.region,
    i.locality, i.number_type, i.features, i.monthly_cost, i.upfront_cost, i.currency, 'sync'
  from sync_incoming i
  where not exists (select 1 from switchboard.numbers n where n.e164 = i.e164 and n.status <> 'released')
  on conflict do nothing;
  get diagnostics v_new = row_count;

  drop table sync_incoming;
  update switchboard.sync_runs
  set seen = seen + v_seen, new = new + v_new, updated = updated + v_updated
  where id = p_run_id;
  return jsonb_build_object('status', 'ok', 'seen', v_seen, 'new', v_new, 'updated', v_updated,
    'unchanged', v_seen - v_new - v_updated);
end $$;

create or replace function switchboard.sync_finish(p_run_id text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  s switchboard.sync_runs;
  v_missing int;
begin
  select * into s from switchboard.sync_runs where id = p_run_id and status = 'running' for update;
  if not found then return jsonb_build_object('status', 'not-running'); end if;
  -- Numbers recorded after the run began (a purchase completing meanwhile) are not judged by it.
  update switchboard.numbers n set status = 'missing', updated_at = p_now
  where n.carrier = s.carrier and n.status in ('available', 'assigned')
    and n.updated_at < s.started_at
    and not exists (select 1 from switchboard.sync_seen x where x.run_id = p_run_id and x.e164 = n.e164);
  get diagnostics v_missing = row_count;
  delete from switchboard.sync_seen where run_id = p_run_id;
  update switchboard.sync_runs set status = 'succeeded', finished_at = p_now, missing = v_missing
  where id = p_run_id returning * into s;
  return jsonb_build_object('status', 'succeeded', 'run', to_jsonb(s),
    'unchanged', s.seen - s.new - s.updated);
end $$;

create or replace function switchboard.sync_fail(p_run_id text, p_error text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare s switchboard.sync_runs;
begin
  delete from switchboard.sync_seen where run_id = p_run_id;
  update switchboard.sync_runs set status = 'failed', finished_at = p_now, error = p_error
  where id = p_run_id and status = 'running' returning * into s;
  if not found then return jsonb_build_object('status', 'not-running'); end if;
  return jsonb_build_object('status', 'failed', 'run', to_jsonb(s));
end $$;

-- ---------------------------------------------------------------------------------------------
-- Audit

create or replace function switchboard.record_audit(p_event jsonb)
returns void language sql set search_path = switchboard, pg_temp as $$
  insert into switchboard.audit_events (at, actor, surface, command, target, outcome, error_code,
    message, monthly_cost, upfront_cost, currency, request_id, duration_ms, detail)
  select coalesce(e.at, now()), e.actor, e.surface, e.command, e.target, e.outcome, e.error_code,
    e.message, e.monthly_cost, e.upfront_cost, e.currency, e.request_id, e.duration_ms, e.detail
  from jsonb_to_record(p_event) as e(at timestamptz, actor text, surface text, command text,
    target text, outcome text, error_code text, message text, monthly_cost numeric,
    upfront_cost numeric, currency text, request_id text, duration_ms int, detail jsonb);
$$;
