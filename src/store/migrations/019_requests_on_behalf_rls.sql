-- A member signed in through Supabase also sees the purchase requests their MCP tokens made for
-- them. A token acts for its owner (015): such a request names the token as requester
-- (`mcp:<token name>`) and the owner in on_behalf_of, and `requests mine` already counts it as
-- the owner's; the row-level policy from 005 matched only the requester, so a member reading
-- the table directly missed those requests (018 did the same for audit events).
--
-- Safe to run twice.

-- As in 005 (same guard: no policy where the role `authenticated` could not be made).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    return;
  end if;
  drop policy if exists requests_own_or_pending_for_approvers on switchboard.requests;
  create policy requests_own_or_pending_for_approvers on switchboard.requests for select
    to authenticated
    using (requester = (select switchboard.current_member_id())
        or on_behalf_of = (select switchboard.current_member_id())
        or (status = 'pending' and (select switchboard.current_member_has_role('approver'))));
end $$;
