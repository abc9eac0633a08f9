-- Related tips. A MinHash fingerprint of each tip's blind-index terms, indexed by band, finds
-- near-duplicates without reading any text; links are kept, tips are never merged.
ALTER TABLE tip ADD COLUMN fingerprint BYTEA;
CREATE TABLE tip_band (
    band BYTEA NOT NULL,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    PRIMARY KEY (band, tip_id)
);
CREATE TABLE tip_link (
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    related_tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    kind TEXT NOT NULL,
    score BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tip_id, related_tip_id)
);
CREATE INDEX tip_link_related ON tip_link (related_tip_id);
CREATE INDEX tip_station_created ON tip (station_id, created_at);
