#!/bin/sh
# Writes the gateway's weighted choices between each service and the monolith, run by the nginx
# image's entrypoint (from /docker-entrypoint.d/) before nginx starts: for each path, the
# variable $<path>_upstream is the service for <PATH>_SERVICE_PERCENT % of requests, keyed
# on the request id, and the monolith for the rest. 0 and 100 need no split (and nginx's
# split_clients refuses 0 %). The output is NGINX_ENVSUBST_OUTPUT_DIR/weights.conf.
# The $names in the printf formats below are nginx variables, written out as they are.
# shellcheck disable=SC2016
set -eu

out=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}/weights.conf
monolith=${MONOLITH_UPSTREAM:-monolith:8080}

choice() { # path, service upstream, percent
    case $3 in
        ''|*[!0-9]*) echo "$0: ${1}: percent '$3' is not a whole number 0..100" >&2; exit 1 ;;
    esac
    if [ "$3" -gt 100 ]; then
        echo "$0: ${1}: percent $3 is above 100" >&2
        exit 1
    elif [ "$3" -eq 100 ]; then
        printf 'map $host $%s_upstream {\n    default %s;\n}\n' "$1" "$2"
    elif [ "$3" -eq 0 ]; then
        printf 'map $host $%s_upstream {\n    default %s;\n}\n' "$1" "$monolith"
    else
        printf 'split_clients "%s$httpmon_request_id" $%s_upstream {\n    %s%% %s;\n    * %s;\n}\n' \
            "$1" "$1" "$3" "$2" "$monolith"
    fi
}

{
    echo "# Written by 40-httpmon-weights.sh at start; edit the environment, not this file."
    choice logs "${INGEST_UPSTREAM:-ingest:8080}" "${LOGS_SERVICE_PERCENT:-100}"
    choice stats "${STATS_UPSTREAM:-stats:8080}" "${STATS_SERVICE_PERCENT:-100}"
    choice alerts "${ALERTS_UPSTREAM:-alerts:8080}" "${ALERTS_SERVICE_PERCENT:-100}"
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "$0: logs ${LOGS_SERVICE_PERCENT:-100}%, stats ${STATS_SERVICE_PERCENT:-100}%, alerts ${ALERTS_SERVICE_PERCENT:-100}% to their services"
