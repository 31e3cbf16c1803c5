-- Totals for `list` narrowed to an area code (`list pool 415`): count and monthly cost per owner
-- over the numbers whose E.164 starts with p_prefix, read from the numbers themselves (the summary
-- that number_totals reads, 012, has no E.164 to narrow by). The prefix is a range on e164, which
-- is collate "C" since 021, so one index range: ':' sorts after '9'. The other predicates match
-- SqlStore.listNumbers and number_totals. Safe to run twice.

create or replace function switchboard.number_totals_in(p_owner text, p_scope text, p_prefix text)
returns jsonb language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce(jsonb_agg(jsonb_build_object('owner', t.owner, 'count', t.count,
    'monthly', t.monthly, 'currency', t.currency) order by t.owner nulls first), '[]'::jsonb)
  from (
    select owner, count(*) as count, coalesce(sum(monthly_cost), 0) as monthly,
      min(currency) as currency
    from switchboard.numbers
    where status <> 'released'
      and e164 >= p_prefix and e164 < p_prefix || ':'
      and (p_owner is null or owner = p_owner)
      and (p_scope <> 'pool' or (status = 'available' and owner is null))
      and (p_scope <> 'owned' or owner is not null)
    group by owner
  ) t;
$$;
