-- Approval messages for requests made outside Slack (CLI, MCP): `serve` posts every pending
-- request that has not been announced yet. Announcing is claimed first, so a request is posted
-- once, whether the Slack listener that created it or the announce job (on any replica) gets there
-- first. Safe to run twice.

create table if not exists switchboard.slack_announcements (
  request_id text primary key references switchboard.requests (id),
  announced_at timestamptz not null default now()
);

-- true when this caller is the one to post the request's approval message.
create or replace function switchboard.claim_slack_announcement(p_request_id text)
returns boolean language sql set search_path = switchboard, pg_temp as $$
  with claimed as (
    insert into switchboard.slack_announcements (request_id) values (p_request_id)
    on conflict do nothing
    returning 1
  )
  select exists (select 1 from claimed);
$$;

-- Pending, unexpired requests nobody has announced yet, oldest first.
create or replace function switchboard.list_unannounced_requests(p_now timestamptz, p_limit int)
returns jsonb language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce(jsonb_agg(to_jsonb(x.*) order by x.created_at, x.id), '[]'::jsonb) from (
    select r.* from switchboard.requests r
    where r.status = 'pending' and r.expires_at > p_now
      and not exists (select 1 from switchboard.slack_announcements a where a.request_id = r.id)
    order by r.created_at, r.id
    limit p_limit
  ) x;
$$;
