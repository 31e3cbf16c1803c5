-- Telling a Slack member how their request ended when no approval message carries it. Requests
-- whose approval message was posted are redrawn in place and their requester is told then
-- (claim_slack_message, 004). But when nobody in Slack could be asked (no approval channel and
-- no approver with a Slack id: approvers work in the CLI), a request made in Slack, or made by an
-- MCP token on a Slack member's behalf, ended without a word to them. `serve` now finds such
-- requests and sends one notice per outcome; claiming the notice first keeps it to one, whichever
-- replica gets there. Safe to run twice.

create table if not exists switchboard.slack_notices (
  request_id text not null references switchboard.requests (id),
  status text not null,
  noticed_at timestamptz not null default now(),
  primary key (request_id, status)
);

-- true when this caller is the one to send the notice of this request's outcome.
create or replace function switchboard.claim_slack_notice(p_request_id text, p_status text)
returns boolean language sql set search_path = switchboard, pg_temp as $$
  with claimed as (
    insert into switchboard.slack_notices (request_id, status) values (p_request_id, p_status)
    on conflict do nothing
    returning 1
  )
  select exists (select 1 from claimed);
$$;

-- Requests that ended since p_since, made in Slack or on a member's behalf, with no approval
-- message and no notice yet for their status, oldest first. Left out: decisions by policy
-- (auto-approval: the requester saw the outcome in the answer) and by the member themself (a
-- withdrawal).
create or replace function switchboard.list_unnoticed_outcomes(p_since timestamptz, p_limit int)
returns jsonb language sql stable set search_path = switchboard, pg_temp as $$
  select coalesce(jsonb_agg(to_jsonb(x.*) order by x.updated_at, x.id), '[]'::jsonb) from (
    select r.* from switchboard.requests r
    where r.status in ('done', 'denied', 'expired', 'failed', 'needs_attention')
      and r.updated_at >= p_since
      and (r.surface = 'slack' or r.on_behalf_of is not null)
      and coalesce(r.decided_by, '') not like 'policy:%'
      and r.decided_by is distinct from coalesce(r.on_behalf_of, r.requester)
      and not exists (select 1 from switchboard.slack_messages m where m.request_id = r.id)
      and not exists (
        select 1 from switchboard.slack_notices n where n.request_id = r.id and n.status = r.status)
    order by r.updated_at, r.id
    limit p_limit
  ) x;
$$;
