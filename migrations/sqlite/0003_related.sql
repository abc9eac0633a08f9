-- Related tips. A MinHash fingerprint of each tip's blind-index terms, indexed by band, finds
-- near-duplicates without reading any text; links are kept, tips are never merged.
ALTER TABLE tip ADD COLUMN fingerprint BLOB;
CREATE TABLE tip_band (
    band BLOB NOT NULL,
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    PRIMARY KEY (band, tip_id)
) WITHOUT ROWID;
CREATE TABLE tip_link (
    tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    related_tip_id INTEGER NOT NULL REFERENCES tip (tip_id),
    kind TEXT NOT NULL,
    score INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tip_id, related_tip_id)
);
CREATE INDEX tip_link_related ON tip_link (related_tip_id);
CREATE INDEX tip_station_created ON tip (station_id, created_at);
