-- A room's size and AI fill, kept with its race so race detail can say
-- them after the room is gone. NULL for races recorded before this.
ALTER TABLE races ADD COLUMN max_cars INTEGER;
ALTER TABLE races ADD COLUMN ai_fill INTEGER;
