-- The daily digest: per district and for the whole range (scope 'range'), one row per day
-- (India Standard Time) with the day's counts. Written once, by whichever node gets there first
-- (the range row is inserted first; a conflict means another node has done the day), in the
-- same transaction as the digest emails in the outbox. Counts only: no tip text, no tipster.
CREATE TABLE digest (
    day TEXT NOT NULL,
    scope TEXT NOT NULL,
    received INTEGER NOT NULL,
    acknowledged_late INTEGER NOT NULL,
    overdue INTEGER NOT NULL,
    escalated INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (day, scope)
);
