-- stats' read model (schema `stats`): hit counts rolled up by event time, at four
-- granularities, plus all-time totals, and how far the feed has been applied.
--
-- A query over any window reads the coarsest buckets that fit inside it and finer ones only
-- at its ragged edges, so its cost follows the window's shape, not the number of entries.
-- status_class is status / 100 (1..5).

CREATE TABLE feed_position (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_offset bigint NOT NULL DEFAULT 0,
    head        bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO feed_position DEFAULT VALUES;

-- By section and status class: what totals, status counts, top sections and time series read.
CREATE TABLE section_hits_second (
    bucket       timestamptz NOT NULL,
    section      text        NOT NULL,
    status_class smallint    NOT NULL,
    hits         bigint      NOT NULL,
    bytes        bigint      NOT NULL,
    PRIMARY KEY (bucket, section, status_class)
);
CREATE TABLE section_hits_minute (LIKE section_hits_second INCLUDING ALL);
CREATE TABLE section_hits_hour   (LIKE section_hits_second INCLUDING ALL);
CREATE TABLE section_hits_day    (LIKE section_hits_second INCLUDING ALL);

-- By client: high cardinality, so only what top_clients needs.
CREATE TABLE client_hits_second (
    bucket timestamptz NOT NULL,
    client text        NOT NULL,
    hits   bigint      NOT NULL,
    PRIMARY KEY (bucket, client)
);
CREATE TABLE client_hits_minute (LIKE client_hits_second INCLUDING ALL);
CREATE TABLE client_hits_hour   (LIKE client_hits_second INCLUDING ALL);
CREATE TABLE client_hits_day    (LIKE client_hits_second INCLUDING ALL);

-- All-time totals: the `all` window reads these, so its top lists are an index scan however
-- many clients there have ever been.
CREATE TABLE section_totals (
    section      text     NOT NULL,
    status_class smallint NOT NULL,
    hits         bigint   NOT NULL,
    bytes        bigint   NOT NULL,
    PRIMARY KEY (section, status_class)
);
CREATE TABLE client_totals (
    client text   PRIMARY KEY,
    hits   bigint NOT NULL
);
CREATE INDEX client_totals_top ON client_totals (hits DESC, client COLLATE "C");

-- The oldest and newest entry times applied: the bounds of `all`, and where `to=latest` ends.
CREATE TABLE entry_bounds (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    earliest  timestamptz,
    latest    timestamptz
);
INSERT INTO entry_bounds DEFAULT VALUES;
