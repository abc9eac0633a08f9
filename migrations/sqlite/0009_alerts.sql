-- Duty rosters, officers' alert contacts, and the durable outbox that delivers alerts.
--
-- A shift puts an officer on one duty for a time: `operator` or `asp` or `sp` of a district,
-- `station` duty for one station or unit, or `range` duty (no district). Shifts may overlap;
-- whoever is on a duty now receives its alerts. Officers' work phone and email are not
-- tipster data and are kept in clear.
CREATE TABLE duty_shift (
    shift_id INTEGER PRIMARY KEY,
    duty TEXT NOT NULL,
    district_id TEXT,
    desk_id TEXT,
    officer_id INTEGER NOT NULL REFERENCES officer (officer_id),
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX duty_shift_ends ON duty_shift (ends_at, starts_at);

ALTER TABLE officer ADD COLUMN phone TEXT;
ALTER TABLE officer ADD COLUMN email TEXT;

-- Every message that must leave the system: claimed with a lease by one node at a time, retried
-- with backoff, marked sent or (after the last attempt) failed, which the supervisor sees. The
-- destination and body are sealed under the range key (associated data: the row's key); the
-- key is also what a provider sees as the idempotency key.
CREATE TABLE outbox (
    outbox_id INTEGER PRIMARY KEY,
    outbox_key TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    tip_id INTEGER REFERENCES tip (tip_id),
    officer_id INTEGER REFERENCES officer (officer_id),
    payload_sealed BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_tip ON outbox (tip_id);

-- New urgent tips wait here for their alerts; tips stored before alerts existed count as done.
ALTER TABLE tip ADD COLUMN alerted_at INTEGER;
UPDATE tip SET alerted_at = created_at;
CREATE INDEX tip_alert_due ON tip (created_at) WHERE alerted_at IS NULL AND urgent;
