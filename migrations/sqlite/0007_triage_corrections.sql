-- Officers' corrections of triage: who changed which field of which tip, from what to what, and
-- when. Values are ids and flags (a category id, a station id, true/false), never tipster text.
-- The corrected tips, with their text opened, become new labelled data (`tipline triage
-- --corrections`).
CREATE TABLE triage_correction (
    correction_id INTEGER PRIMARY KEY,
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    officer_id INTEGER NOT NULL REFERENCES officer (officer_id),
    created_at INTEGER NOT NULL
);
CREATE INDEX triage_correction_tip ON triage_correction (tip_id, correction_id);
