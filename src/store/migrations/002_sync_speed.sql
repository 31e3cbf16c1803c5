-- Sync speed (issue 3): the same batch upsert as 001_init.sql's sync_batch, in one statement and
-- without a temporary table. Creating and dropping `sync_incoming` cost about 29 ms a batch on
-- PGlite (catalog writes every time); a CTE over jsonb_to_recordset is read once and materialised
-- by the planner. Semantics are unchanged: unchanged rows are not written, numbers the carrier
-- lists again leave `missing`, numbers nobody owns land in the pool, counts are per batch.
--
-- All the data-modifying CTEs see the table as it was when the statement began, which is what
-- the old function relied on too: the update touches only numbers that already exist, the insert
-- only numbers that do not.

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

  with incoming as materialized (
    select distinct on (x.e164) x.e164, x.carrier_ref, x.carrier_account, x.country, x.region,
      x.locality, coalesce(x.number_type, 'local') as number_type,
      coalesce(x.features, '{}') as features, x.monthly_cost, x.upfront_cost,
      coalesce(x.currency, 'USD') as currency
    from jsonb_to_recordset(p_rows) as x(e164 text, carrier_ref text, carrier_account text,
      country text, region text, locality text, number_type text, features text[],
      monthly_cost numeric, upfront_cost numeric, currency text)
  ),
  seen as (
    insert into switchboard.sync_seen (run_id, e164)
    select p_run_id, e164 from incoming
    on conflict do nothing
  ),
  updated as (
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
    from incoming i
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
        or n.status = 'missing')
    returning 1
  ),
  -- Numbers nobody owns land in the pool.
  inserted as (
    insert into switchboard.numbers (e164, carrier, carrier_ref, carrier_account, status, country,
      region, locality, number_type, features, monthly_cost, upfront_cost, currency, source)
    select i.e164, p_carrier, i.carrier_ref, i.carrier_account, 'available', i.country, i.region,
      i.locality, i.number_type, i.features, i.monthly_cost, i.upfront_cost, i.currency, 'sync'
    from incoming i
    where not exists (
      select 1 from switchboard.numbers n where n.e164 = i.e164 and n.status <> 'released')
    on conflict do nothing
    returning 1
  )
  select (select count(*) from incoming), (select count(*) from updated),
    (select count(*) from inserted)
  into v_seen, v_updated, v_new;

  update switchboard.sync_runs
  set seen = seen + v_seen, new = new + v_new, updated = updated + v_updated
  where id = p_run_id;
  return jsonb_build_object('status', 'ok', 'seen', v_seen, 'new', v_new, 'updated', v_updated,
    'unchanged', v_seen - v_new - v_updated);
end $$;
