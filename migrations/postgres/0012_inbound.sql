-- Messages from provider channels (SMS, WhatsApp, ...). Each provider message id is stored once,
-- in the same transaction as the tip it opened or the message it added: a provider's retry finds
-- it and is given the same answer (sealed under the tip's key; emptied after a day), and nothing
-- is stored twice.
CREATE TABLE inbound_message (
    channel TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    answer_sealed BYTEA,
    pseudonym BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel, provider_id)
);
-- How many messages a sender sent lately (flood marking).
CREATE INDEX inbound_message_sender ON inbound_message (pseudonym, created_at);
CREATE INDEX inbound_message_created ON inbound_message (created_at) WHERE answer_sealed IS NOT NULL;

-- Who wrote a tip on a provider channel: a pseudonym (HMAC of the address under a key outside the
-- database, never the address), so that later messages join the sender's open tip; and the
-- address to answer, sealed under the range key, kept while the tip is open.
CREATE TABLE tip_sender (
    channel TEXT NOT NULL,
    pseudonym BYTEA NOT NULL,
    tip_id BIGINT NOT NULL REFERENCES tip (tip_id),
    reply_sealed BYTEA,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (channel, pseudonym, tip_id)
);
CREATE INDEX tip_sender_tip ON tip_sender (tip_id);

-- A tip whose sender sent more messages in an hour than a person would (a flood or spam): kept,
-- marked for the officer, and answered no more for that hour.
ALTER TABLE tip ADD COLUMN flooded BOOLEAN NOT NULL DEFAULT FALSE;
