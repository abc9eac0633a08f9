-- The open queue in its own order: tips still being worked on, by district, priority and id.
-- A queue page reads its first rows and stops, however many closed tips there are. (The queue
-- query writes the open statuses out, so the planner can match this index's condition.)
CREATE INDEX tip_open_queue ON tip (district_id, priority_rank, tip_id)
    WHERE status IN ('new', 'acknowledged', 'assigned', 'in_action', 'action_taken');
CREATE INDEX tip_open_queue_all ON tip (priority_rank, tip_id)
    WHERE status IN ('new', 'acknowledged', 'assigned', 'in_action', 'action_taken');
