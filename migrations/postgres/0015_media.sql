-- Photos sent on provider channels, waiting to be fetched from the provider (the reference is
-- sealed under the range key); a fetched photo becomes an attachment of the tip and its row goes.
CREATE TABLE media_pending (
    media_id BIGINT PRIMARY KEY,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    provider TEXT NOT NULL,
    ref_sealed BYTEA NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_pending_due ON media_pending (next_attempt_at);
