-- Sync speed (issue 3). Two costs per 1,000-number batch are gone, with the semantics unchanged
-- (unchanged rows are not written, numbers the carrier lists again leave `missing`, numbers nobody
-- owns land in the pool, counts are per batch):
--
-- 1. sync_batch no longer creates and drops the temporary table `sync_incoming` (catalog writes
--    every batch, about 29 ms on PGlite): one statement, a CTE over jsonb_to_recordset.
-- 2. The numbers a run has seen are kept as one array row per batch (sync_seen_batches) instead
--    of one indexed row per number (sync_seen): one insert instead of 1,000 index entries.
--    sync_finish unnests them once, to mark the rest missing; sync_fail and sync_finish empty
--    both tables (a run begun before this migration may have rows in the old one).
--
-- All the data-modifying CTEs of sync_batch see the table as it was when the statement began,
-- which is what the old function relied on too: the update touches only numbers that already
-- exist, the insert only numbers that do not.

create table if not exists switchboard.sync_seen_batches (
  run_id text not null,
  e164s text[] not null
);
create index if not exists sync_seen_batches_run on switchboard.sync_seen_batches (run_id);

create or replace function switchboard.sync_begin(
  p_run_id text, p_carrier text, p_actor text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare s switchboard.sync_runs;
begin
  perform pg_advisory_xact_lock(hashtext('switchboard.sync:' || p_carrier));
  -- A run that has said nothing for 30 minutes died with its process; what it had seen goes too.
  with abandoned as (
    update switchboard.sync_runs set status = 'failed', finished_at = p_now,
      error = 'abandoned: the process running it stopped'
    where carrier = p_carrier and status = 'running' and started_at < p_now - interval '30 minutes'
    returning id
  ),
  gone as (
    delete from switchboard.sync_seen_batches b using abandoned a where b.run_id = a.id
  )
  delete from switchboard.sync_seen x using abandoned a where x.run_id = a.id;
  select * into s from switchboard.sync_runs where carrier = p_carrier and status = 'running';
  if found then return jsonb_build_object('status', 'busy', 'run', to_jsonb(s)); end if;
  insert into switchboard.sync_runs (id, carrier, started_by, started_at, status)
  values (p_run_id, p_carrier, p_actor, p_now, 'running') returning * into s;
  return jsonb_build_object('status', 'started', 'run', to_jsonb(s));
end $$;

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
    -- "C" order: deduplicating by byte order is all that is needed, and far cheaper than a locale's.
    select distinct on (x.e164 collate "C") x.e164, x.carrier_ref, x.carrier_account, x.country,
      x.region, x.locality, coalesce(x.number_type, 'local') as number_type,
      coalesce(x.features, '{}') as features, x.monthly_cost, x.upfront_cost,
      coalesce(x.currency, 'USD') as currency
    from jsonb_to_recordset(p_rows) as x(e164 text, carrier_ref text, carrier_account text,
      country text, region text, locality text, number_type text, features text[],
      monthly_cost numeric, upfront_cost numeric, currency text)
  ),
  -- One index probe per number: its live record, if any, and whether anything differs.
  matched as materialized (
    select i.*, n.id as number_id,
      n.id is not null and (n.carrier is distinct from p_carrier
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
        or n.status = 'missing') as changed
    from incoming i
    left join switchboard.numbers n on n.e164 = i.e164 and n.status <> 'released'
  ),
  seen as (
    insert into switchboard.sync_seen_batches (run_id, e164s)
    select p_run_id, array_agg(e164) from incoming having count(*) > 0
  ),
  -- Only the numbers that differ are written, by primary key.
  updated as (
    update switchboard.numbers n
    set carrier = p_carrier, carrier_ref = m.carrier_ref, carrier_account = m.carrier_account,
        country = coalesce(m.country, n.country), region = coalesce(m.region, n.region),
        locality = coalesce(m.locality, n.locality), number_type = m.number_type,
        features = m.features, monthly_cost = coalesce(m.monthly_cost, n.monthly_cost),
        upfront_cost = coalesce(m.upfront_cost, n.upfront_cost), currency = m.currency,
        status = case when n.status = 'missing'
                      then case when n.owner is null then 'available' else 'assigned' end
                      else n.status end,
        updated_at = now()
    from matched m
    where m.changed and n.id = m.number_id and n.status <> 'released'
    returning 1
  ),
  -- Numbers nobody owns land in the pool.
  inserted as (
    insert into switchboard.numbers (e164, carrier, carrier_ref, carrier_account, status, country,
      region, locality, number_type, features, monthly_cost, upfront_cost, currency, source)
    select m.e164, p_carrier, m.carrier_ref, m.carrier_account, 'available', m.country, m.region,
      m.locality, m.number_type, m.features, m.monthly_cost, m.upfront_cost, m.currency, 'sync'
    from matched m
    where m.number_id is null
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

-- enable_nestloop is off inside sync_finish: a freshly filled table has no statistics yet, and
-- PostgreSQL 15 then picked a nested-loop anti-join (every number against every seen number:
-- minutes for 100,000). Hash anti-joins take well under a second whatever the estimates.
create or replace function switchboard.sync_finish(p_run_id text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp
set enable_nestloop = off as $$
declare
  s switchboard.sync_runs;
  v_missing int;
begin
  select * into s from switchboard.sync_runs where id = p_run_id and status = 'running' for update;
  if not found then return jsonb_build_object('status', 'not-running'); end if;
  -- Numbers recorded after the run began (a purchase completing meanwhile) are not judged by it.
  -- Anti-joins on plain subqueries (not a CTE), so that the planner can hash the seen numbers.
  update switchboard.numbers n set status = 'missing', updated_at = p_now
  where n.carrier = s.carrier and n.status in ('available', 'assigned')
    and n.updated_at < s.started_at
    and not exists (
      select 1
      from (select unnest(b.e164s) as e164 from switchboard.sync_seen_batches b
            where b.run_id = p_run_id) x
      where x.e164 = n.e164)
    and not exists (select 1 from switchboard.sync_seen y where y.run_id = p_run_id and y.e164 = n.e164);
  get diagnostics v_missing = row_count;
  delete from switchboard.sync_seen_batches where run_id = p_run_id;
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
  delete from switchboard.sync_seen_batches where run_id = p_run_id;
  delete from switchboard.sync_seen where run_id = p_run_id;
  update switchboard.sync_runs set status = 'failed', finished_at = p_now, error = p_error
  where id = p_run_id and status = 'running' returning * into s;
  if not found then return jsonb_build_object('status', 'not-running'); end if;
  return jsonb_build_object('status', 'failed', 'run', to_jsonb(s));
end $$;
