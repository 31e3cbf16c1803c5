-- Totals for `list`: count and monthly cost per owner over every number in scope, not only the
-- page shown (a team with 10,000 numbers sees its real monthly cost on a page of 100).
-- The predicates match SqlStore.listNumbers. Safe to run twice.

create or replace function switchboard.number_totals(p_owner text, p_scope text)
returns jsonb language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce(jsonb_agg(jsonb_build_object('owner', t.owner, 'count', t.count,
    'monthly', t.monthly, 'currency', t.currency) order by t.owner nulls first), '[]'::jsonb)
  from (
    select owner, count(*) as count, coalesce(sum(monthly_cost), 0) as monthly,
      min(currency) as currency
    from switchboard.numbers
    where status <> 'released'
      and (p_owner is null or owner = p_owner)
      and (p_scope <> 'pool' or (status = 'available' and owner is null))
      and (p_scope <> 'owned' or owner is not null)
    group by owner
  ) t;
$$;
