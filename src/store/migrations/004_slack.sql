-- Slack message refs: the approval messages posted for each purchase request, so that a decision
-- or an expiry updates every one of them in place (chat.update needs channel + ts), from any
-- replica, after any restart. `rendered_status` is the request status the message last showed;
-- moving it is a compare-and-set, so of two replicas (or a click and the expiry job) only one
-- redraws a message and tells the requester.

create table if not exists switchboard.slack_messages (
  channel text not null,
  ts text not null,
  request_id text not null references switchboard.requests (id),
  rendered_status text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (channel, ts)
);

create index if not exists slack_messages_request_idx on switchboard.slack_messages (request_id);

create or replace function switchboard.save_slack_message(
  p_request_id text, p_channel text, p_ts text, p_status text)
returns void language sql set search_path = switchboard, pg_temp as $$
  insert into switchboard.slack_messages (channel, ts, request_id, rendered_status)
  values (p_channel, p_ts, p_request_id, p_status)
  on conflict (channel, ts) do nothing;
$$;

-- true when this caller moved the message from p_from to p_to (and so must redraw it).
create or replace function switchboard.claim_slack_message(
  p_channel text, p_ts text, p_from text, p_to text)
returns boolean language sql set search_path = switchboard, pg_temp as $$
  with moved as (
    update switchboard.slack_messages set rendered_status = p_to, updated_at = now()
    where channel = p_channel and ts = p_ts and rendered_status = p_from
    returning 1
  )
  select exists (select 1 from moved);
$$;

create or replace function switchboard.list_slack_messages(p_request_id text)
returns jsonb language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce(jsonb_agg(to_jsonb(m.*) order by m.created_at, m.channel), '[]'::jsonb)
  from switchboard.slack_messages m where m.request_id = p_request_id;
$$;

-- Messages whose request has moved on since they were drawn, each with its request.
create or replace function switchboard.list_stale_slack_messages(p_limit int)
returns jsonb language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce(jsonb_agg(x.j), '[]'::jsonb) from (
    select to_jsonb(m.*) || jsonb_build_object('request', to_jsonb(r.*)) as j
    from switchboard.slack_messages m
    join switchboard.requests r on r.id = m.request_id
    where m.rendered_status <> r.status
    order by m.created_at
    limit p_limit
  ) x;
$$;
