-- A member's audit trail includes what their MCP tokens did for them. A token acts for its owner
-- (015), but its events name the token as actor (`mcp:<token name>`) and the owner only in
-- detail->>'onBehalfOf' (src/core/command.ts), so a member's own `audit`, an approver's
-- `audit --actor <member>` and the member's direct reads through Supabase (audit_own, 005) missed
-- them. Filtering audit events by a member now means: by that member, or on their behalf.
--
-- Safe to run twice.

-- --- The "on their behalf" half of the filter, by index -----------------------------------------
-- The twin of audit_actor (001): the stores read a member's newest events by them from that one
-- and their newest events on their behalf from this one, each an ordered scan that stops at the
-- limit, rather than a scan of the whole trail. Only events made through a token carry the key,
-- so the index holds only those. The predicate is `is not null`, not `detail ? 'onBehalfOf'`:
-- `detail->>'onBehalfOf' = …` implies it (= is strict), so the planner can use the index for the
-- SQL stores' query, for the one PostgREST builds from `detail->>onBehalfOf=eq.…` (the supabase-js
-- store) and for audit_own below.
create index if not exists audit_on_behalf on switchboard.audit_events
  ((detail->>'onBehalfOf'), at desc)
  where (detail->>'onBehalfOf') is not null;

-- --- audit_own: a signed-in member also sees events made on their behalf ---------------------------
-- As in 005 (same guard: no policy where the role `authenticated` could not be made).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    return;
  end if;
  drop policy if exists audit_own on switchboard.audit_events;
  create policy audit_own on switchboard.audit_events for select to authenticated
    using (actor = (select switchboard.current_member_id())
        or (detail->>'onBehalfOf') = (select switchboard.current_member_id()));
end $$;
