-- `list` totals without reading every number. number_totals() used to aggregate the whole numbers
-- table on every call: ~5 ms for 10,000 numbers on PGlite, on every MCP list_numbers and every
-- page of `list`, growing with the account. Now statement-level triggers on numbers append one
-- signed row per (owner, status, currency) a statement changed to number_totals_delta, and
-- number_totals() sums those few rows instead.
--
-- Append-only on purpose: writers never update a shared summary row, so concurrent claims, buys and
-- syncs never wait on (or deadlock over) each other's totals. Every so often a writer that finds no
-- other compaction running folds the rows into one per group (an advisory lock keeps it to one at a
-- time; only compaction deletes rows, so nothing else is ever blocked by it). Released numbers count
-- in no total and are left out.
--
-- Invariant, checked by test/store/number-totals.test.ts: per (owner, status, currency), the sums
-- of number_totals_delta equal count(*) and sum(monthly_cost) over the numbers not released.
--
-- Safe to run twice.

create table if not exists switchboard.number_totals_delta (
  id bigint generated always as identity primary key,
  owner text,
  status text not null,
  currency text not null,
  count bigint not null,
  monthly numeric not null
);

-- One function for the four triggers below; each names its own transition tables.
create or replace function switchboard.number_totals_track()
returns trigger language plpgsql set search_path = switchboard, pg_temp as $$
declare
  v_compact boolean;
begin
  if tg_op = 'TRUNCATE' then
    delete from switchboard.number_totals_delta;
    return null;
  elsif tg_op = 'INSERT' then
    with added as (
      insert into switchboard.number_totals_delta (owner, status, currency, count, monthly)
      select owner, status, currency, count(*), coalesce(sum(monthly_cost), 0)
      from new_rows where status <> 'released'
      group by owner, status, currency
      returning id
    )
    select coalesce(bool_or(id % 256 = 0), false) into v_compact from added;
  elsif tg_op = 'DELETE' then
    with added as (
      insert into switchboard.number_totals_delta (owner, status, currency, count, monthly)
      select owner, status, currency, -count(*), -coalesce(sum(monthly_cost), 0)
      from old_rows where status <> 'released'
      group by owner, status, currency
      returning id
    )
    select coalesce(bool_or(id % 256 = 0), false) into v_compact from added;
  else
    -- An update: what the rows were, taken away, and what they are now, added; a statement that
    -- changed nothing the totals count (a sync refreshing a locality, say) adds no row.
    with added as (
      insert into switchboard.number_totals_delta (owner, status, currency, count, monthly)
      select owner, status, currency, sum(c), sum(m)
      from (
        select owner, status, currency, 1 as c, coalesce(monthly_cost, 0) as m
        from new_rows where status <> 'released'
        union all
        select owner, status, currency, -1, -coalesce(monthly_cost, 0)
        from old_rows where status <> 'released'
      ) d
      group by owner, status, currency
      having sum(c) <> 0 or sum(m) <> 0
      returning id
    )
    select coalesce(bool_or(id % 256 = 0), false) into v_compact from added;
  end if;

  -- Every 256th row or so: fold the rows into one per group, unless a compaction is running.
  if v_compact and pg_try_advisory_xact_lock(hashtext('switchboard.number_totals_delta')) then
    with gone as (
      delete from switchboard.number_totals_delta
      returning owner, status, currency, count, monthly
    )
    insert into switchboard.number_totals_delta (owner, status, currency, count, monthly)
    select owner, status, currency, sum(count), sum(monthly)
    from gone
    group by owner, status, currency
    having sum(count) <> 0 or sum(monthly) <> 0;
  end if;
  return null;
end $$;

drop trigger if exists numbers_totals_insert on switchboard.numbers;
create trigger numbers_totals_insert after insert on switchboard.numbers
  referencing new table as new_rows
  for each statement execute function switchboard.number_totals_track();

drop trigger if exists numbers_totals_update on switchboard.numbers;
create trigger numbers_totals_update after update on switchboard.numbers
  referencing old table as old_rows new table as new_rows
  for each statement execute function switchboard.number_totals_track();

drop trigger if exists numbers_totals_delete on switchboard.numbers;
create trigger numbers_totals_delete after delete on switchboard.numbers
  referencing old table as old_rows
  for each statement execute function switchboard.number_totals_track();

drop trigger if exists numbers_totals_truncate on switchboard.numbers;
create trigger numbers_totals_truncate after truncate on switchboard.numbers
  for each statement execute function switchboard.number_totals_track();

-- The numbers already there, once (the table is only ever empty when no number is live).
insert into switchboard.number_totals_delta (owner, status, currency, count, monthly)
select owner, status, currency, count(*), coalesce(sum(monthly_cost), 0)
from switchboard.numbers
where status <> 'released'
  and not exists (select 1 from switchboard.number_totals_delta)
group by owner, status, currency;

-- Same answer as 008_number_totals.sql, read from the summary.
create or replace function switchboard.number_totals(p_owner text, p_scope text)
returns jsonb language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce(jsonb_agg(jsonb_build_object('owner', t.owner, 'count', t.count,
    'monthly', t.monthly, 'currency', t.currency) order by t.owner nulls first), '[]'::jsonb)
  from (
    select owner, sum(count) as count, sum(monthly) as monthly, min(currency) as currency
    from (
      select owner, status, currency, sum(count) as count, sum(monthly) as monthly
      from switchboard.number_totals_delta
      where (p_owner is null or owner = p_owner)
        and (p_scope <> 'pool' or (status = 'available' and owner is null))
        and (p_scope <> 'owned' or owner is not null)
      group by owner, status, currency
      having sum(count) > 0
    ) g
    group by owner
  ) t;
$$;
