-- Photos sent with tips, sealed under the tip's key: the original (evidence), the copy without
-- identifying metadata (what officers see) and its facts (type, size, SHA-256 of the original).
CREATE TABLE attachment (
    attachment_id BIGINT PRIMARY KEY,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    original_sealed BYTEA NOT NULL,
    clean_sealed BYTEA NOT NULL,
    facts_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachment_tip ON attachment (tip_id);
