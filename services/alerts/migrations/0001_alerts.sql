-- alerts' schema: where it stands in ingest's feed, the per-second counts its rules read,
-- the rules with their state, and the append-only history of alert events.

-- The feed consumer's position (see feed::consumer).
CREATE TABLE feed_position (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_offset bigint NOT NULL DEFAULT 0,
    head        bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO feed_position DEFAULT VALUES;

-- Hits per second of event time, by section and status class (status / 100): all any rule
-- can ask for. Upserted once per feed page.
CREATE TABLE hits_by_second (
    second       timestamptz NOT NULL,
    section      text        NOT NULL,
    status_class smallint    NOT NULL,
    hits         bigint      NOT NULL,
    PRIMARY KEY (second, section, status_class)
);

CREATE TABLE rules (
    id             bigserial PRIMARY KEY,
    name           text             NOT NULL,
    metric         text             NOT NULL CHECK (metric IN ('hits', 'errors_5xx', 'section_hits')),
    section        text,
    window_seconds integer          NOT NULL CHECK (window_seconds BETWEEN 1 AND 86400),
    threshold      double precision NOT NULL CHECK (threshold > 0),
    comparison     text             NOT NULL CHECK (comparison IN ('above', 'below')),
    webhook_url    text,
    created_at     timestamptz      NOT NULL DEFAULT now(),
    updated_at     timestamptz      NOT NULL DEFAULT now(),
    CHECK ((metric = 'section_hits') = (section IS NOT NULL))
);

-- The state machine's state per rule (domain::evaluation::RuleState), written in the same
-- transaction as the feed position and the events it produced.
CREATE TABLE rule_state (
    rule_id           bigint  PRIMARY KEY REFERENCES rules (id) ON DELETE CASCADE,
    active            boolean NOT NULL DEFAULT false,
    evaluated_through bigint  NOT NULL,  -- epoch second
    last_transition   bigint,            -- epoch second
    -- The event that made the rule active, while it is.
    active_event_id   bigint
);

-- Append-only: rows are never updated nor deleted, even when their rule is.
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    rule_id    bigint           NOT NULL,
    rule_name  text             NOT NULL,
    kind       text             NOT NULL CHECK (kind IN ('triggered', 'recovered')),
    value      double precision NOT NULL,
    at         timestamptz      NOT NULL,
    created_at timestamptz      NOT NULL DEFAULT now(),
    message    text             NOT NULL
);
CREATE INDEX events_rule ON events (rule_id, id);

-- Webhook deliveries, one per event of a rule that had a webhook when the event happened.
CREATE TABLE deliveries (
    event_id        bigint      PRIMARY KEY REFERENCES events (id),
    url             text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';

-- Whether the default rule was created once already: deleting it must stick across restarts.
CREATE TABLE bootstrap (
    singleton            boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    default_rule_created boolean NOT NULL DEFAULT false
);
INSERT INTO bootstrap DEFAULT VALUES;
