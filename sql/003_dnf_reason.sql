-- Why a car did not finish, public in results (docs/API.md: time_limit,
-- stalled, bot_load_failed, left, disconnected, kicked, retired). NULL for
-- finishers and for results recorded before this.
ALTER TABLE race_results ADD COLUMN dnf_reason TEXT;
