-- Exact top clients over long windows without aggregating every client in them: each hour
-- and day bucket lists its clients by hits (sorted access), and a client's hits in a range of
-- buckets can be looked up directly (random access). See storage::top_clients.
CREATE INDEX client_hits_hour_by_hits ON client_hits_hour (bucket, hits DESC);
CREATE INDEX client_hits_day_by_hits ON client_hits_day (bucket, hits DESC);
CREATE INDEX client_hits_minute_by_client ON client_hits_minute (client, bucket);
CREATE INDEX client_hits_hour_by_client ON client_hits_hour (client, bucket);
CREATE INDEX client_hits_day_by_client ON client_hits_day (client, bucket);
