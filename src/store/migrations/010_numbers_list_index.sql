-- `list` reads numbers in (owner nulls first, e164) order and stops at its page: with this index
-- a page of 100 out of 10,000 numbers is read in order instead of sorting the table first.
-- Safe to run twice.

create index if not exists numbers_list_order on switchboard.numbers (owner nulls first, e164);

