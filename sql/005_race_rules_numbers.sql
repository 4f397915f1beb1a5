-- GET /api/races/{id}'s rules_numbers, kept once made: making them means
-- generating the race's stage (5-20 ms of Lua), which an anonymous GET
-- must not cost every time. rules_numbers_key says which scripts and
-- settings they were made under (api_races.c); under others they are made
-- again, once.
ALTER TABLE races ADD COLUMN rules_numbers TEXT;
ALTER TABLE races ADD COLUMN rules_numbers_key INTEGER;
