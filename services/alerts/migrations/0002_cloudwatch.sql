-- Where the CloudWatch publisher stands, per namespace: every second through
-- `published_through` (epoch second, event time) has been put, so a restart resumes after it
-- and neither skips nor repeats a point. A new namespace starts from the seconds decided
-- when it is first seen.
CREATE TABLE cloudwatch_cursor (
    namespace         text        PRIMARY KEY,
    published_through bigint      NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
