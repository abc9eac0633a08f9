-- The officer console: accounts and their sessions, dispatch to stations and units with the
-- supervisor's brief, and action-taken reports. Passwords are argon2id hashes; TOTP secrets and
-- briefs and reports are sealed like tip content (officers' words about a tip may quote it).
CREATE TABLE officer (
    officer_id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    district_id TEXT,
    desk_id TEXT,
    password_hash TEXT NOT NULL,
    totp_sealed BLOB,
    totp_enrolled INTEGER NOT NULL DEFAULT 0,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A session is known by the SHA-256 of its cookie value only. `stage` is `password` between the
-- password and the second factor, `full` after it.
CREATE TABLE officer_session (
    session_hash BLOB PRIMARY KEY,
    officer_id INTEGER NOT NULL REFERENCES officer (officer_id),
    stage TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX officer_session_officer ON officer_session (officer_id);

CREATE TABLE tip_assignment (
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    desk_id TEXT NOT NULL,
    desk_kind TEXT NOT NULL,
    district_id TEXT NOT NULL,
    brief_sealed BLOB NOT NULL,
    assigned_by INTEGER NOT NULL REFERENCES officer (officer_id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tip_id, desk_id)
);
CREATE INDEX tip_assignment_desk ON tip_assignment (desk_id, tip_id);

CREATE TABLE action_report (
    action_report_id INTEGER PRIMARY KEY,
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    desk_id TEXT NOT NULL,
    officer_id INTEGER NOT NULL REFERENCES officer (officer_id),
    report_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX action_report_tip ON action_report (tip_id, created_at);

-- The queue orders by priority: a rank computed from the stored priority, so intake is unchanged.
ALTER TABLE tip ADD COLUMN priority_rank INTEGER GENERATED ALWAYS AS (
    CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END
) VIRTUAL;
ALTER TABLE tip ADD COLUMN duplicate_of INTEGER REFERENCES tip (tip_id);
CREATE INDEX tip_queue ON tip (district_id, status, priority_rank, tip_id);
CREATE INDEX tip_queue_all ON tip (status, priority_rank, tip_id);

-- History of a tip and oversight by officer read the audit log by subject and by actor.
CREATE INDEX audit_log_subject ON audit_log (subject, audit_seq);
CREATE INDEX audit_log_actor ON audit_log (actor, created_at);
