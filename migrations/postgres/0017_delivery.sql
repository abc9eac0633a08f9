-- What the providers report of the messages handed to them (their status callbacks).
--
-- `provider_ref` is a keyed hash (HMAC under the pseudonym key) of the provider's message id, the
-- way a callback finds its message; never the id itself: a WhatsApp `wamid.` id encodes the
-- recipient's number, and any of the ids (Twilio's `SM…`, Messenger's `m_…`) can be looked up at
-- the provider to name the recipient. `recipient_ref` is a keyed hash of a Messenger recipient
-- (page and page-scoped user id), for Messenger's watermarks, which name no message.
--
-- `delivery` only moves up, by `delivery_rank`: sent (1) < failed (2) < delivered (3) < read (4).
-- A failure after a delivery or a read changes nothing (one of the tipster's devices had it); a
-- delivery or read after a failure replaces it. `delivery_error` is the provider's error code.
ALTER TABLE outbox ADD COLUMN provider_ref TEXT;
ALTER TABLE outbox ADD COLUMN recipient_ref TEXT;
ALTER TABLE outbox ADD COLUMN delivery TEXT;
ALTER TABLE outbox ADD COLUMN delivery_rank BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN delivery_error TEXT;
ALTER TABLE outbox ADD COLUMN delivery_at BIGINT;
CREATE INDEX outbox_provider_ref ON outbox (provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX outbox_recipient_ref ON outbox (recipient_ref, sent_at) WHERE recipient_ref IS NOT NULL;
-- The range dashboard's list of messages that did not arrive: given up here, or reported failed.
CREATE INDEX outbox_undelivered ON outbox (outbox_id) WHERE status = 'failed' OR delivery = 'failed';
