-- Sync writes less per number (issue 3; measured with tools/bench and a 100-batch loop of
-- sync_batch on PGlite: 34 ms a batch of 1,000 new numbers before, 24 ms after).
--
-- 1. sync_batch plans each call afresh. PL/pgSQL keeps a generic plan after a few calls; on a
--    sync into a new, nearly empty store that plan was made for a table of a few thousand rows
--    and kept while the sync grew it to 100,000, so every batch cost more than the one before it
--    (28 ms for the first, 45 ms for the last on PGlite). A plan made for the table as it is
--    costs far less than that drift.
-- 2. Two indexes every new number paid for and no query needs:
--    numbers_owner (owner) where status <> 'released': numbers_list_order (owner nulls first,
--      e164) from 010 starts with the same column and serves every lookup by owner;
--    numbers_carrier (carrier, status): only sync_finish filters on carrier, and it reads all of
--      that carrier's numbers anyway (a hash anti-join over a scan).
--
-- A later migration that redefines sync_batch must keep `set plan_cache_mode = force_custom_plan`
-- (create or replace drops it).
--
-- Safe to run twice.

alter function switchboard.sync_batch(text, text, jsonb) set plan_cache_mode = force_custom_plan;

drop index if exists switchboard.numbers_owner;
drop index if exists switchboard.numbers_carrier;
