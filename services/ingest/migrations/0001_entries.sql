-- ingest's schema: entries, the batches that committed them, and the feed's offsets.
--
-- Offsets are assigned per batch at the very end of its transaction, under the row lock of
-- feed_head, so they increase in commit order: a reader that has seen offset n can never
-- later find a smaller one committing (which bigserial ids cannot promise).

CREATE TABLE feed_head (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_offset bigint  NOT NULL
);
INSERT INTO feed_head (last_offset) VALUES (0);

CREATE SEQUENCE batch_ids;

-- One row per committed request: entries of batch b have offsets
-- first_offset .. last_offset, in the order of their ordinals.
CREATE TABLE batches (
    id           bigint      PRIMARY KEY,
    first_offset bigint      NOT NULL,
    last_offset  bigint      NOT NULL UNIQUE,
    entry_count  integer     NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now()
);

-- Referers and user agents repeat on most lines: each distinct value is stored once.
CREATE TABLE texts (
    id    bigserial PRIMARY KEY,
    value text      NOT NULL
);
-- md5 of the value, because a btree entry cannot hold a very long user agent.
CREATE UNIQUE INDEX texts_value_md5 ON texts (md5(value));

CREATE TABLE entries (
    batch_id           bigint      NOT NULL,
    ordinal            integer     NOT NULL,
    time               timestamptz NOT NULL,
    utc_offset_minutes smallint    NOT NULL,
    client             text        NOT NULL,
    remote_user        text,
    method             text        NOT NULL,
    path               text        NOT NULL,
    section            text        NOT NULL,
    protocol           text        NOT NULL,
    status             smallint    NOT NULL,
    bytes              bigint,
    referer_id         bigint,
    user_agent_id      bigint,
    PRIMARY KEY (batch_id, ordinal)
);
CREATE INDEX entries_time ON entries (time);
