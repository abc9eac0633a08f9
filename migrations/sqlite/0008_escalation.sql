-- The escalation ladder: how far up a late tip has gone on the step it is late for (1 station,
-- 2 ASP, 3 SP, 4 range supervisor; 0 not escalated), and when it is next due to climb. A step
-- change (acknowledged, assigned, ...) resets the time to the new step's deadline. Each rung is
-- taken by one conditional update, so with several nodes each escalation happens once.
ALTER TABLE tip ADD COLUMN escalation_step TEXT;
ALTER TABLE tip ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tip ADD COLUMN escalation_due_at INTEGER;
UPDATE tip SET escalation_due_at = CASE status
    WHEN 'new' THEN ack_due_at
    WHEN 'acknowledged' THEN action_due_at
    WHEN 'assigned' THEN report_due_at
    WHEN 'in_action' THEN report_due_at
    ELSE NULL END;
CREATE INDEX tip_escalation_due ON tip (escalation_due_at) WHERE escalation_due_at IS NOT NULL;
