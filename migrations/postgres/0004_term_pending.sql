-- The blind index is filled in the background. Intake appends one row per text with its packed
-- terms (16 bytes each) here, which costs one appended page instead of a random page per word;
-- an indexer moves them into tip_term in sorted batches, and search also scans what is pending.
CREATE TABLE term_pending (
    source_id BIGINT NOT NULL,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    terms BYTEA NOT NULL,
    PRIMARY KEY (source_id, tip_id)
);
