-- A claim, an unclaim or a release that meets a change still in flight on its number waits for that
-- change and decides on what it left, instead of answering from a row that no longer says what is true.
--
-- The fault (found by CI: an unclaim racing a claim on PostgreSQL answered "+1415… already belongs
-- to null"). In read committed, an UPDATE whose WHERE does not match the row's committed version
-- skips the row at once: it waits on a row lock only when the version it sees matches. So:
--
-- * claim_number (001) read the number as Alice's, then met her unclaim still uncommitted: its
--   update (`status = 'available' and owner is null`) skipped the row, and its second read, with a
--   new snapshot, saw the committed unclaim and answered `held` by `null`. Had it read a moment
--   earlier, it answered "belongs to Alice" for a number that was back in the pool.
-- * release_number (001) met an unlink still uncommitted the same way: its update
--   (`agent_id is null`) skipped the row and it answered `linked`, for a number that was released
--   at the carrier and no longer linked. The core then tells the user to unlink and release again.
-- * unclaim_number (023) met an unlink still uncommitted the same way and answered `linked` for a
--   number its owner could now give back.
--
-- Now each reads its number `for update` before deciding: that waits for any change in flight and
-- returns the row as that change left it, and holds the row until the caller commits, so the
-- update that follows matches what was read. Lock order is unchanged: claim_number still takes the
-- member's advisory lock first, then the row, as its update did before; release_number and
-- unclaim_number take only the row.
--
-- Same answers as before in every case without a race, in the same order (claim: not-found,
-- already-yours, member-cap, then claimed, missing or held; release: released, not-found,
-- already-released, linked; unclaim: unclaimed, not-found, released, in-pool, held, missing,
-- linked). Same signatures, so the Supabase types (supabase-schema.ts) and the
-- grants (005's secure_schema, which the runner calls after every migration) stay as they are.
--
-- Safe to run twice.

create or replace function switchboard.claim_number(p_e164 text, p_member text, p_member_cap int)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  n switchboard.numbers;
  v_count int;
begin
  perform switchboard.touch_member(p_member);
  -- One member's claims are serialised so the cap cannot be overrun by claims in parallel.
  perform pg_advisory_xact_lock(hashtext('switchboard.member:' || p_member));
  -- Waits for a change in flight (an unclaim, a release, a sync) and reads what it left; a number
  -- released meanwhile no longer matches and is not found.
  select * into n from switchboard.numbers where e164 = p_e164 and status <> 'released' for update;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  if n.owner = p_member then
    return jsonb_build_object('status', 'already-yours', 'number', to_jsonb(n));
  end if;
  if p_member_cap is not null then
    v_count := switchboard.member_number_count(p_member);
    if v_count >= p_member_cap then
      return jsonb_build_object('status', 'member-cap', 'count', v_count, 'cap', p_member_cap);
    end if;
  end if;
  if n.status = 'available' and n.owner is null then
    update switchboard.numbers set owner = p_member, status = 'assigned', updated_at = now()
    where id = n.id
    returning * into n;
    return jsonb_build_object('status', 'claimed', 'number', to_jsonb(n));
  end if;
  if n.status = 'missing' then return jsonb_build_object('status', 'missing', 'number', to_jsonb(n)); end if;
  return jsonb_build_object('status', 'held', 'owner', n.owner, 'number', to_jsonb(n));
end $$;

-- Records a carrier release. The caller has released it at the carrier; a linked number is refused
-- here too, so that no path can forget to unlink first.
create or replace function switchboard.release_number(p_number_id bigint, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare n switchboard.numbers;
begin
  -- Waits for a change in flight (an unlink, a link, another release) and reads what it left.
  select * into n from switchboard.numbers where id = p_number_id for update;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  if n.status = 'released' then return jsonb_build_object('status', 'already-released', 'number', to_jsonb(n)); end if;
  if n.agent_id is not null then return jsonb_build_object('status', 'linked', 'number', to_jsonb(n)); end if;
  update switchboard.numbers set status = 'released', released_at = p_now, updated_at = p_now
  where id = p_number_id
  returning * into n;
  return jsonb_build_object('status', 'released', 'number', to_jsonb(n));
end $$;

-- `unclaim`: as in 023, one compare-and-set against the owner the core checked, now on the row as
-- the change in flight left it.
create or replace function switchboard.unclaim_number(
  p_number_id bigint, p_owner text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare n switchboard.numbers;
begin
  -- Waits for a change in flight (a claim, an unlink, a release) and reads what it left.
  select * into n from switchboard.numbers where id = p_number_id for update;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  if n.status = 'assigned' and n.owner = p_owner and n.agent_id is null then
    update switchboard.numbers set owner = null, status = 'available', updated_at = p_now
    where id = p_number_id
    returning * into n;
    return jsonb_build_object('status', 'unclaimed', 'number', to_jsonb(n));
  end if;
  if n.status = 'released' then
    return jsonb_build_object('status', 'released', 'number', to_jsonb(n));
  end if;
  if n.owner is null then return jsonb_build_object('status', 'in-pool', 'number', to_jsonb(n)); end if;
  if n.owner <> p_owner then
    return jsonb_build_object('status', 'held', 'owner', n.owner, 'number', to_jsonb(n));
  end if;
  if n.status = 'missing' then
    return jsonb_build_object('status', 'missing', 'number', to_jsonb(n));
  end if;
  return jsonb_build_object('status', 'linked', 'number', to_jsonb(n));
end $$;
