-- Foundation: sealed tips, their messages, the blind index, wrapped data keys, and the
-- append-only, MAC-chained audit log. Times are Unix milliseconds (UTC), as on SQLite, so that
-- one set of queries serves both backends.

CREATE TABLE data_key (
    scope TEXT NOT NULL,
    version BIGINT NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, version)
);

CREATE TABLE tip (
    tip_id BIGINT PRIMARY KEY,
    tip_number TEXT NOT NULL UNIQUE,
    secret_mac BYTEA NOT NULL,
    channel TEXT NOT NULL,
    district_id TEXT,
    station_id TEXT,
    category TEXT,
    status TEXT NOT NULL,
    happening_now BOOLEAN NOT NULL,
    language TEXT NOT NULL,
    key_scope TEXT NOT NULL,
    text_sealed BYTEA NOT NULL,
    place_sealed BYTEA,
    when_sealed BYTEA,
    guess_failures BIGINT NOT NULL DEFAULT 0,
    guess_window_start BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tip_district_created ON tip (district_id, created_at);
CREATE INDEX tip_status_created ON tip (status, created_at);

CREATE TABLE tip_message (
    tip_message_id BIGINT PRIMARY KEY,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    author TEXT NOT NULL,
    body_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX tip_message_tip ON tip_message (tip_id, created_at);

CREATE TABLE tip_term (
    term BYTEA NOT NULL,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    PRIMARY KEY (term, tip_id)
);

CREATE TABLE audit_log (
    audit_seq BIGINT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_mac BYTEA NOT NULL,
    entry_mac BYTEA NOT NULL
);

CREATE TABLE audit_head (
    audit_head_id INTEGER PRIMARY KEY CHECK (audit_head_id = 1),
    last_seq BIGINT NOT NULL,
    last_mac BYTEA NOT NULL
);
INSERT INTO audit_head (audit_head_id, last_seq, last_mac) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
