-- Row-level security for people who read Switchboard's data from Supabase directly, and row leases
-- so that several `switchboard serve` replicas on one database run each scheduled job once.
--
-- Supabase already has the roles `anon`, `authenticated` and `service_role` and the function
-- `auth.uid()`; plain PostgreSQL and PGlite do not, so they are created here only when missing,
-- behaving like Supabase's: `service_role` bypasses RLS, `auth.uid()` reads the `sub` claim of the
-- request's JWT from `request.jwt.claims`.
--
-- Who may do what:
--   anon           nothing: no usage on the schema.
--   authenticated  reads, through RLS: the pool, their own numbers, requests and audit events,
--                  their own member row; approvers also see pending requests. No table is
--                  writable and no state-changing function is executable.
--   service_role   everything, bypassing RLS (Switchboard's supabase-js store uses this key).
-- The migration's own user (DATABASE_URL) owns the tables and functions and is not restricted.
--
-- switchboard.secure_schema() applies the table and function rules to everything in the schema;
-- the migration runner calls it after every migration, so tables and functions added by later
-- migrations are covered too (test/store/rls.test.ts fails if a table lacks RLS).
--
-- Safe to run twice, like every migration.

-- ---------------------------------------------------------------------------------------------
-- Supabase's roles and auth.uid(), where they are missing.

do $$
declare
  v_role text;
begin
  foreach v_role in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_roles where rolname = v_role) then
      begin
        if v_role = 'service_role' then
          execute 'create role service_role nologin noinherit bypassrls';
        else
          execute format('create role %I nologin noinherit', v_role);
        end if;
      exception
        -- Roles are shared by every database of a server: another database's migration may have
        -- created it a moment ago.
        when duplicate_object or unique_violation then null;
        when insufficient_privilege then
          raise notice 'switchboard: cannot create role % (needs a superuser); RLS policies for it are skipped', v_role;
      end;
    end if;
  end loop;
end $$;

create schema if not exists auth;

do $$
begin
  if to_regprocedure('auth.uid()') is null then
    -- The same as Supabase's: the `sub` claim of the request's JWT, or null.
    execute $f$
      create function auth.uid() returns uuid language sql stable as $b$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $b$
    $f$;
    if exists (select 1 from pg_roles where rolname = 'authenticated') then
      execute 'grant usage on schema auth to authenticated';
    end if;
  end if;
end $$;

-- ---------------------------------------------------------------------------------------------
-- Members <-> Supabase auth users.

alter table switchboard.members add column if not exists auth_user_id uuid unique;

-- Links a Supabase auth user to a member (Slack user id); null unlinks. Called with the service
-- role or by the database owner, never by `authenticated`.
create or replace function switchboard.link_auth_user(p_member text, p_auth_user_id uuid)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare m switchboard.members;
begin
  update switchboard.members set auth_user_id = p_auth_user_id where id = p_member returning * into m;
  if not found then return jsonb_build_object('status', 'not-found'); end if;
  return jsonb_build_object('status', 'ok', 'member', to_jsonb(m));
end $$;

-- The member the request's JWT belongs to. Security definer: policies on members would otherwise
-- recurse into themselves.
create or replace function switchboard.current_member_id()
returns text language sql stable security definer set search_path = switchboard, pg_temp as $$
  select id from switchboard.members where auth_user_id = auth.uid();
$$;

create or replace function switchboard.current_member_has_role(p_role text)
returns boolean language sql stable security definer set search_path = switchboard, pg_temp as $$
  select coalesce((select p_role = any (roles) from switchboard.members
                   where auth_user_id = auth.uid()), false);
$$;

-- ---------------------------------------------------------------------------------------------
-- Leases: one holder per name until it expires. Replicas call try_lease before a scheduled job;
-- the one that gets it runs the job. Timed by the database's clock, so replicas' clocks do not
-- matter. Compare-and-set in one statement: an insert, or an update of an expired (or our own)
-- lease; concurrent callers on one name serialise on its row and exactly one wins.

create table if not exists switchboard.leases (
  name text primary key,
  holder text not null,
  acquired_at timestamptz not null,
  expires_at timestamptz not null
);

create or replace function switchboard.try_lease(p_name text, p_holder text, p_ttl_ms int)
returns boolean language plpgsql set search_path = switchboard, pg_temp as $$
declare v_now timestamptz := clock_timestamp();
begin
  if p_ttl_ms is null or p_ttl_ms <= 0 then
    raise exception 'try_lease: ttl must be a positive number of milliseconds, not %', p_ttl_ms;
  end if;
  insert into switchboard.leases as l (name, holder, acquired_at, expires_at)
  values (p_name, p_holder, v_now, v_now + make_interval(secs => p_ttl_ms / 1000.0))
  on conflict (name) do update
    set holder = excluded.holder,
        acquired_at = case when l.holder = excluded.holder then l.acquired_at else excluded.acquired_at end,
        expires_at = excluded.expires_at
    where l.expires_at <= v_now or l.holder = excluded.holder;
  return found;
end $$;

-- Gives a lease up early; only its holder can.
create or replace function switchboard.release_lease(p_name text, p_holder text)
returns boolean language plpgsql set search_path = switchboard, pg_temp as $$
begin
  delete from switchboard.leases where name = p_name and holder = p_holder;
  return found;
end $$;

-- ---------------------------------------------------------------------------------------------
-- Policies: read-only, per member. No insert, update or delete policy exists on any table.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    return;
  end if;
  drop policy if exists members_self on switchboard.members;
  create policy members_self on switchboard.members for select to authenticated
    using (auth_user_id = (select auth.uid()));

  drop policy if exists numbers_pool_and_own on switchboard.numbers;
  create policy numbers_pool_and_own on switchboard.numbers for select to authenticated
    using ((status = 'available' and owner is null)
        or owner = (select switchboard.current_member_id()));

  drop policy if exists requests_own_or_pending_for_approvers on switchboard.requests;
  create policy requests_own_or_pending_for_approvers on switchboard.requests for select
    to authenticated
    using (requester = (select switchboard.current_member_id())
        or (status = 'pending' and (select switchboard.current_member_has_role('approver'))));

  drop policy if exists audit_own on switchboard.audit_events;
  create policy audit_own on switchboard.audit_events for select to authenticated
    using (actor = (select switchboard.current_member_id()));
end $$;

-- ---------------------------------------------------------------------------------------------
-- Grants and RLS on everything in the schema, now and after every later migration.

create or replace function switchboard.secure_schema()
returns void language plpgsql set search_path = switchboard, pg_temp as $$
declare
  v_table text;
  v_function regprocedure;
  v_has_anon boolean := exists (select 1 from pg_roles where rolname = 'anon');
  v_has_authenticated boolean := exists (select 1 from pg_roles where rolname = 'authenticated');
  v_has_service boolean := exists (select 1 from pg_roles where rolname = 'service_role');
begin
  for v_table in select tablename from pg_tables where schemaname = 'switchboard' loop
    execute format('alter table switchboard.%I enable row level security', v_table);
  end loop;

  -- Functions are executable by PUBLIC unless revoked: only the service role (and the owner) may
  -- call the state-changing ones. They run as their caller, so table grants and RLS apply as well.
  for v_function in
    select p.oid::regprocedure from pg_proc p where p.pronamespace = 'switchboard'::regnamespace
  loop
    execute format('revoke all on function %s from public', v_function);
    if v_has_anon then execute format('revoke all on function %s from anon', v_function); end if;
    if v_has_authenticated then
      execute format('revoke all on function %s from authenticated', v_function);
    end if;
    if v_has_service then
      execute format('grant execute on function %s to service_role', v_function);
    end if;
  end loop;

  if v_has_anon then
    execute 'revoke all on all tables in schema switchboard from anon';
    execute 'revoke all on schema switchboard from anon';
  end if;
  if v_has_authenticated then
    execute 'grant usage on schema switchboard to authenticated';
    execute 'revoke all on all tables in schema switchboard from authenticated';
    execute 'grant select on switchboard.members, switchboard.numbers, switchboard.requests,
      switchboard.audit_events to authenticated';
    -- The policies call these with the reader's rights.
    execute 'grant execute on function switchboard.current_member_id(),
      switchboard.current_member_has_role(text) to authenticated';
  end if;
  if v_has_service then
    execute 'grant usage on schema switchboard to service_role';
    execute 'grant select, insert, update, delete on all tables in schema switchboard to service_role';
    execute 'grant usage, select on all sequences in schema switchboard to service_role';
  end if;
end $$;

select switchboard.secure_schema();
