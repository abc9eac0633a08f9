-- Photos sent on provider channels, waiting to be fetched from the provider (the reference is
-- sealed under the range key); a fetched photo becomes an attachment of the tip and its row goes.
CREATE TABLE media_pending (
    media_id INTEGER PRIMARY KEY,
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    provider TEXT NOT NULL,
    ref_sealed BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX media_pending_due ON media_pending (next_attempt_at);
