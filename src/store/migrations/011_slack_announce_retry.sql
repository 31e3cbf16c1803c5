-- An approval message that could not be posted anywhere (Slack down, the bot not in the channel,
-- no approver reachable) gives its announcement back, so that the announce job tries again
-- instead of the request waiting unseen until it expires. Safe to run twice.

create or replace function switchboard.release_slack_announcement(p_request_id text)
returns void language sql set search_path = switchboard, pg_temp as $$
  delete from switchboard.slack_announcements where request_id = p_request_id;
$$;
