-- Triage results kept with the tip. The flags and ids route and rank the tip, so they are in
-- clear (as category and district are); the full assessment with the words that decided it
-- quotes the tip, so it is sealed like the text.
ALTER TABLE tip ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE tip ADD COLUMN urgent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tip ADD COLUMN police_involvement BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tip ADD COLUMN barred_station_id TEXT;
ALTER TABLE tip ADD COLUMN triage_sealed BYTEA;
CREATE INDEX tip_priority_created ON tip (priority, created_at);
