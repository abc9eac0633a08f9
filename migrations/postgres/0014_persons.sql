-- People a tip names (a keyed term of the name, as in the blind index; never the name), so that
-- a burst of tips against one person in a week is flagged as a possible harassment campaign.
CREATE TABLE tip_person (
    term BYTEA NOT NULL,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (term, tip_id)
);
CREATE INDEX tip_person_tip ON tip_person (tip_id);
