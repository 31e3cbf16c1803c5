-- `unclaim`: a number goes back to the team pool. It stays in the carrier account (and keeps its
-- cost); anyone may claim it again. Only `release` takes a number out of the account.
--
-- One compare-and-set: assigned -> available, owner -> null, only while the owner is still the one
-- the caller checked (p_owner: the core checked that the caller may act for them) and the number
-- is linked to no voice agent (its calls would still reach the old owner's agent). Two unclaims of
-- one number, or an unclaim and someone's claim, serialise on the row: the second sees the first's
-- result and answers with it. When nothing changed, the answer says why, in the order the core
-- checks: released, in-pool, held (someone else's now), missing, linked.
--
-- The list totals (number_totals_delta, 012) follow the owner change through their statement
-- triggers. Grants: switchboard.secure_schema() (005), which the migration runner calls after
-- every migration, gives the service role execute on it and nobody else.
--
-- Safe to run twice.

create or replace function switchboard.unclaim_number(
  p_number_id bigint, p_owner text, p_now timestamptz)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare n switchboard.numbers;
begin
  update switchboard.numbers set owner = null, status = 'available', updated_at = p_now
  where id = p_number_id and status = 'assigned' and owner = p_owner and agent_id is null
  returning * into n;
  if found then return jsonb_build_object('status', 'unclaimed', 'number', to_jsonb(n)); end if;
  select * into n from switchboard.numbers where id = p_number_id;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
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
