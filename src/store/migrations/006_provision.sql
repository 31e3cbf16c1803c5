-- Provisioning (issue 4): a purchase request can carry the voice agent to link the number to once
-- it is bought, and say how its number was found (the business phone's area code, the same region,
-- or anywhere in the country). Numbers the carrier account owns but no sync has recorded yet can be
-- imported one at a time.
--
-- Safe to run twice, like every migration.

alter table switchboard.requests
  add column if not exists provision_agent text,            -- "retell:<agent id>" | "vapi:<assistant id>"
  add column if not exists provision_fallback text,         -- area-code | region | country
  add column if not exists link_status text,                -- pending | linked | failed (null: no link asked)
  add column if not exists link_error text;

do $$
begin
  if not exists (select 1 from pg_constraint where conname = 'requests_provision_fallback_check') then
    alter table switchboard.requests add constraint requests_provision_fallback_check
      check (provision_fallback in ('area-code', 'region', 'country'));
  end if;
  if not exists (select 1 from pg_constraint where conname = 'requests_link_status_check') then
    alter table switchboard.requests add constraint requests_link_status_check
      check (link_status in ('pending', 'linked', 'failed')
        and ((link_status is null) = (provision_agent is null)));
  end if;
end $$;

-- Done purchases whose agent link is still to be made: reconcile finishes them after a crash.
create index if not exists requests_link_pending on switchboard.requests (updated_at)
  where link_status = 'pending';

-- create_purchase_request, and in the same transaction the provisioning plan.
create or replace function switchboard.create_provision_request(
  p_id text, p_requester text, p_surface text, p_quote_id text, p_area_code text, p_reason text,
  p_expires_at timestamptz, p_member_cap int, p_monthly_budget numeric, p_now timestamptz,
  p_agent text, p_fallback text)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  v_outcome jsonb;
  r switchboard.requests;
begin
  v_outcome := switchboard.create_purchase_request(p_id, p_requester, p_surface, p_quote_id,
    p_area_code, p_reason, p_expires_at, p_member_cap, p_monthly_budget, p_now);
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

-- pending | failed -> linked | failed, once the platform has answered.
create or replace function switchboard.set_request_link(
  p_id text, p_status text, p_error text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare r switchboard.requests;
begin
  if p_status not in ('linked', 'failed') then
    raise exception 'set_request_link: status must be linked or failed, not %', p_status;
  end if;
  update switchboard.requests
  set link_status = p_status, link_error = case when p_status = 'failed' then p_error end,
      updated_at = p_now
  where id = p_id and link_status in ('pending', 'failed')
  returning * into r;
  if found then return jsonb_build_object('status', 'ok', 'request', to_jsonb(r)); end if;
  select * into r from switchboard.requests where id = p_id;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  return jsonb_build_object('status', 'unchanged', 'request', to_jsonb(r));
end $$;

-- A number the carrier account owns, verified there a moment ago, enters the pool (source
-- 'import'). A live record for the number is left as it is.
create or replace function switchboard.import_number(p_carrier text, p_row jsonb, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare n switchboard.numbers;
begin
  insert into switchboard.numbers (e164, carrier, carrier_ref, carrier_account, status, country,
    region, locality, number_type, features, monthly_cost, upfront_cost, currency, source,
    created_at, updated_at)
  values (p_row->>'e164', p_carrier, p_row->>'carrier_ref', p_row->>'carrier_account', 'available',
    p_row->>'country', p_row->>'region', p_row->>'locality',
    coalesce(p_row->>'number_type', 'local'),
    coalesce((select array_agg(f) from jsonb_array_elements_text(p_row->'features') f), '{}'),
    (p_row->>'monthly_cost')::numeric, (p_row->>'upfront_cost')::numeric,
    coalesce(p_row->>'currency', 'USD'), 'import', p_now, p_now)
  on conflict (e164) where status <> 'released' do nothing
  returning * into n;
  if found then return jsonb_build_object('status', 'imported', 'number', to_jsonb(n)); end if;
  select * into n from switchboard.numbers where e164 = p_row->>'e164' and status <> 'released';
  return jsonb_build_object('status', 'exists', 'number', to_jsonb(n));
end $$;
