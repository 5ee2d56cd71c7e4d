-- By status class alone, at every granularity: what totals, status counts and time series
-- read, without the section dimension (one row per class and bucket instead of one per
-- section, class and bucket).
CREATE TABLE class_hits_second (
    bucket       timestamptz NOT NULL,
    status_class smallint    NOT NULL,
    hits         bigint      NOT NULL,
    bytes        bigint      NOT NULL,
    PRIMARY KEY (bucket, status_class)
);
CREATE TABLE class_hits_minute (LIKE class_hits_second INCLUDING ALL);
CREATE TABLE class_hits_hour   (LIKE class_hits_second INCLUDING ALL);
CREATE TABLE class_hits_day    (LIKE class_hits_second INCLUDING ALL);

INSERT INTO class_hits_second
SELECT bucket, status_class, sum(hits), sum(bytes) FROM section_hits_second GROUP BY 1, 2;
INSERT INTO class_hits_minute
SELECT bucket, status_class, sum(hits), sum(bytes) FROM section_hits_minute GROUP BY 1, 2;
INSERT INTO class_hits_hour
SELECT bucket, status_class, sum(hits), sum(bytes) FROM section_hits_hour GROUP BY 1, 2;
INSERT INTO class_hits_day
SELECT bucket, status_class, sum(hits), sum(bytes) FROM section_hits_day GROUP BY 1, 2;

-- Candidate clients' exact counts are read from these indexes alone (index-only scans), one
-- short range per candidate, at every granularity: the cost of a window's ragged edges then
-- follows the number of candidates, not the traffic rate.
DROP INDEX client_hits_minute_by_client;
DROP INDEX client_hits_hour_by_client;
DROP INDEX client_hits_day_by_client;
CREATE INDEX client_hits_minute_by_client ON client_hits_minute (client, bucket) INCLUDE (hits);
CREATE INDEX client_hits_hour_by_client ON client_hits_hour (client, bucket) INCLUDE (hits);
CREATE INDEX client_hits_day_by_client ON client_hits_day (client, bucket) INCLUDE (hits);
CREATE INDEX client_hits_second_by_client ON client_hits_second (client, bucket) INCLUDE (hits);

-- Each hour's and day's clients by hits, read from the index alone: the candidate lists of
-- storage::top_clients.
DROP INDEX client_hits_hour_by_hits;
DROP INDEX client_hits_day_by_hits;
CREATE INDEX client_hits_hour_by_hits ON client_hits_hour (bucket, hits DESC) INCLUDE (client);
CREATE INDEX client_hits_day_by_hits ON client_hits_day (bucket, hits DESC) INCLUDE (client);
