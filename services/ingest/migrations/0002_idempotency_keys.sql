-- Replies to POSTs that carried an Idempotency-Key, so a retry is answered without storing
-- its lines again. A key row is inserted in the same transaction as its batch: a concurrent
-- duplicate waits on the primary key, then reads the reply committed here.

CREATE TABLE idempotency_keys (
    key          text        PRIMARY KEY,
    -- SHA-256 of the request body (after gzip is undone): the same key with another body
    -- is refused.
    request_hash bytea       NOT NULL,
    status       smallint    NOT NULL,
    reply        jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- Expired keys are dropped in bulk by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
