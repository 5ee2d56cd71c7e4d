#!/usr/bin/env bash
# Postgres init script (run once, on an empty data directory, by the postgres image from
# /docker-entrypoint-initdb.d): one login role per service, each owning only its schema.
#   ingest, stats, alerts  own the schemas of the same names and can use no other
#   monolith               runs all three services in one process, so it is a member of the
#                          three roles: it may use and migrate every schema, and owns none
# The public schema is closed to all of them. Passwords come from INGEST_DB_PASSWORD,
# STATS_DB_PASSWORD, ALERTS_DB_PASSWORD and MONOLITH_DB_PASSWORD (docker-compose.yml).
#
# Tables stay their service's whoever migrates first: the monolith runs each schema's
# migrations as that schema's owner (SET ROLE, in the service kit's migrate).
set -euo pipefail

for name in INGEST_DB_PASSWORD STATS_DB_PASSWORD ALERTS_DB_PASSWORD MONOLITH_DB_PASSWORD; do
    if [ -z "${!name:-}" ]; then
        echo "$0: $name is not set" >&2
        exit 1
    fi
done

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --no-psqlrc \
    --set db="$POSTGRES_DB" \
    --set ingest_password="$INGEST_DB_PASSWORD" \
    --set stats_password="$STATS_DB_PASSWORD" \
    --set alerts_password="$ALERTS_DB_PASSWORD" \
    --set monolith_password="$MONOLITH_DB_PASSWORD" <<'SQL'
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;

CREATE ROLE ingest LOGIN PASSWORD :'ingest_password';
CREATE ROLE stats LOGIN PASSWORD :'stats_password';
CREATE ROLE alerts LOGIN PASSWORD :'alerts_password';
CREATE ROLE monolith LOGIN PASSWORD :'monolith_password' IN ROLE ingest, stats, alerts;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO ingest, stats, alerts, monolith;

CREATE SCHEMA ingest AUTHORIZATION ingest;
CREATE SCHEMA stats AUTHORIZATION stats;
CREATE SCHEMA alerts AUTHORIZATION alerts;

SQL
echo "$0: roles ingest, stats, alerts and monolith, schemas ingest, stats and alerts"
