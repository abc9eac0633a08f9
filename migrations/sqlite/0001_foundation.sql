-- Foundation: sealed tips, their messages, the blind index, wrapped data keys, and the
-- append-only, MAC-chained audit log. Times are Unix milliseconds (UTC).

CREATE TABLE data_key (
    scope TEXT NOT NULL,
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, version)
);

CREATE TABLE tip (
    tip_id INTEGER PRIMARY KEY,
    tip_number TEXT NOT NULL UNIQUE,
    secret_mac BLOB NOT NULL,
    channel TEXT NOT NULL,
    district_id TEXT,
    station_id TEXT,
    category TEXT,
    status TEXT NOT NULL,
    happening_now INTEGER NOT NULL,
    language TEXT NOT NULL,
    key_scope TEXT NOT NULL,
    text_sealed BLOB NOT NULL,
    place_sealed BLOB,
    when_sealed BLOB,
    guess_failures INTEGER NOT NULL DEFAULT 0,
    guess_window_start INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX tip_district_created ON tip (district_id, created_at);
CREATE INDEX tip_status_created ON tip (status, created_at);

CREATE TABLE tip_message (
    tip_message_id INTEGER PRIMARY KEY,
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    author TEXT NOT NULL,
    body_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX tip_message_tip ON tip_message (tip_id, created_at);

CREATE TABLE tip_term (
    term BLOB NOT NULL,
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    PRIMARY KEY (term, tip_id)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    audit_seq INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_mac BLOB NOT NULL,
    entry_mac BLOB NOT NULL
);

CREATE TABLE audit_head (
    audit_head_id INTEGER PRIMARY KEY CHECK (audit_head_id = 1),
    last_seq INTEGER NOT NULL,
    last_mac BLOB NOT NULL
);
INSERT INTO audit_head (audit_head_id, last_seq, last_mac) VALUES (1, 0, zeroblob(32));

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
