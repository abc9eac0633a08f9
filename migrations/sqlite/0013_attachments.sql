-- Photos sent with tips, sealed under the tip's key: the original (evidence), the copy without
-- identifying metadata (what officers see) and its facts (type, size, SHA-256 of the original).
CREATE TABLE attachment (
    attachment_id INTEGER PRIMARY KEY,
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    original_sealed BLOB NOT NULL,
    clean_sealed BLOB NOT NULL,
    facts_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachment_tip ON attachment (tip_id);
