-- Rate limits shared by every replica. `serve` limits each Slack user and each member over MCP
-- (issue 8) with a token bucket; kept in each process's memory, N replicas behind a load balancer
-- gave a member N times the budget. On PostgreSQL and Supabase the buckets now live here, one row
-- per identity, so replicas behave as one. (The embedded store is served by one process, which
-- keeps its buckets in memory.)
--
-- The maths are those of createRateLimiter (src/core/rate-limit.ts): a bucket starts full at
-- `burst` tokens and gains `per_minute` tokens a minute, up to `burst`; a call takes one.
-- Timed by the database's clock, so replicas whose clocks disagree still agree on a bucket.
--
-- Safe to run twice.

create table if not exists switchboard.rate_buckets (
  key text primary key,
  -- Tokens left at `at`; the refill since then is worked out on the next take.
  tokens double precision not null,
  at timestamptz not null
);

-- A bucket's tokens at p_now: p_tokens at p_at plus the refill since, up to p_burst. Time before
-- p_at counts as none (see rate_take).
create or replace function switchboard.rate_tokens(
  p_tokens double precision, p_at timestamptz, p_now timestamptz,
  p_per_minute double precision, p_burst double precision)
returns double precision language sql immutable set search_path = switchboard, pg_temp as $$
  select least(p_burst,
    p_tokens + greatest(0, extract(epoch from p_now - p_at))::double precision * p_per_minute / 60);
$$;

-- Refills the bucket `p_key` and takes one token: {"ok": true}, or {"ok": false,
-- "retry_after_ms": n} when less than one token is left (n: until one is).
--
-- The decision is one statement, an insert or an update of the key's row: concurrent callers for
-- one key serialise on that row (ON CONFLICT locks it, and its WHERE and SET are worked out on the
-- latest version, after the lock), so two of them never both take the last token. A refused call
-- changes nothing (the refill is a function of time, worked out again on the next take), so a
-- caller hammering a spent bucket writes nothing.
--
-- The clock is clock_timestamp(), read once per call, not now(): now() is the start of the
-- transaction, which does not move inside a longer one, so a bucket would never refill there. A
-- caller that read the clock and then waited on the row's lock may hold a time a little before the
-- row's `at` (written by the caller it waited for): its elapsed time counts as none, and `at` never
-- moves backwards (greatest), so no stretch of time is counted twice.
create or replace function switchboard.rate_take(
  p_key text, p_per_minute double precision, p_burst double precision)
returns jsonb language plpgsql set search_path = switchboard, pg_temp as $$
declare
  v_now timestamptz := clock_timestamp();
  v_tokens double precision;
begin
  if p_key is null then
    raise exception 'rate_take: the key must not be null';
  end if;
  if p_per_minute is null or not (p_per_minute > 0) or p_per_minute in ('Infinity', 'NaN') then
    raise exception 'rate_take: per_minute must be a positive number, not %', p_per_minute;
  end if;
  if p_burst is null or not (p_burst >= 1) or p_burst in ('Infinity', 'NaN') then
    raise exception 'rate_take: burst must be at least 1, not %', p_burst;
  end if;

  insert into switchboard.rate_buckets as b (key, tokens, at)
  values (p_key, p_burst - 1, v_now)
  on conflict (key) do update
    set tokens = switchboard.rate_tokens(b.tokens, b.at, v_now, p_per_minute, p_burst) - 1,
        at = greatest(b.at, v_now)
    where switchboard.rate_tokens(b.tokens, b.at, v_now, p_per_minute, p_burst) >= 1;
  if found then
    return jsonb_build_object('ok', true);
  end if;

  -- Refused. The statement above still holds the row's lock (ON CONFLICT locks the row it found
  -- even when its WHERE says no), so this reads the state that was judged.
  select switchboard.rate_tokens(b.tokens, b.at, v_now, p_per_minute, p_burst) into v_tokens
  from switchboard.rate_buckets b where b.key = p_key;
  return jsonb_build_object('ok', false,
    'retry_after_ms', greatest(1, ceil((1 - v_tokens) * 60000 / p_per_minute))::bigint);
end $$;

-- Forgets buckets untouched for p_idle_ms milliseconds (database clock), returning how many. A
-- bucket idle for as long as it takes to refill is full, which is what a missing row means, so
-- forgetting it changes no answer; `serve` calls this periodically (src/server/jobs.ts) with a
-- generous margin over that time, so the table holds only the identities active lately.
create or replace function switchboard.rate_forget(p_idle_ms double precision)
returns integer language plpgsql set search_path = switchboard, pg_temp as $$
declare v_count integer;
begin
  if p_idle_ms is null or not (p_idle_ms >= 0) or p_idle_ms in ('Infinity', 'NaN') then
    raise exception 'rate_forget: the idle time must be a number of milliseconds, not %', p_idle_ms;
  end if;
  delete from switchboard.rate_buckets
  where at < clock_timestamp() - make_interval(secs => p_idle_ms / 1000.0);
  get diagnostics v_count = row_count;
  return v_count;
end $$;
