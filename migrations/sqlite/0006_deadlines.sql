-- Each tip's deadlines, computed from the policy in force when it arrived (config `[deadlines]`)
-- and kept with it: acknowledge by, first action by, action-taken report by (Unix ms). Tips
-- stored before this migration have none.
ALTER TABLE tip ADD COLUMN ack_due_at INTEGER;
ALTER TABLE tip ADD COLUMN action_due_at INTEGER;
ALTER TABLE tip ADD COLUMN report_due_at INTEGER;

-- The audit view reads the log by time.
CREATE INDEX audit_log_created ON audit_log (created_at);
