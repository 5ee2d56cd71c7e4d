# shellcheck shell=bash
# shellcheck source=scripts/lib/on-exit.sh
source "$(dirname "${BASH_SOURCE[0]}")/on-exit.sh"
# A private, throwaway Postgres cluster for tests and benchmarks, started only when
# DATABASE_URL is not already set. Installs Debian's postgresql when no server is found.
#
#   source scripts/lib/postgres.sh; ensure_postgres <name> [durable]
#
# exports DATABASE_URL (a superuser on 127.0.0.1) and registers a stop on exit. The data
# directory is thrown away each time unless PG_KEEP_DATA=1 (with PG_DATA_DIR to place it).

pg_bindir() {
    if command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    local dir
    dir=$(find /usr/lib/postgresql -maxdepth 3 -name pg_ctl -type f 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && dirname "$dir"
}

install_postgres() {
    echo "postgres: no server found, installing Debian's postgresql" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}

# ensure_postgres NAME [durable]: "durable" keeps fsync on (benchmarks); tests turn it off.
ensure_postgres() {
    local name=$1 mode=${2:-fast}
    if [ -n "${DATABASE_URL:-}" ]; then
        echo "postgres: using DATABASE_URL from the environment" >&2
        return
    fi
    local bindir
    bindir=$(pg_bindir)
    if [ -z "$bindir" ]; then
        install_postgres
        bindir=$(pg_bindir)
    fi
    local port=${PGPORT_PRIVATE:-55432}
    local dir=${PG_DATA_DIR:-${TMPDIR:-/tmp}/httpmon-pg-$name}
    # initdb refuses to run as root: run the cluster as an unprivileged user.
    local run_as=()
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        run_as=(runuser -u postgres --)
    fi
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir" stop -m immediate >/dev/null 2>&1 || true
    if [ "${PG_KEEP_DATA:-0}" != 1 ] || [ ! -f "$dir/PG_VERSION" ]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        [ ${#run_as[@]} -eq 0 ] || chown postgres "$dir"
        "${run_as[@]}" "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "$mode" = durable ] && durability=""
    # shellcheck disable=SC2086 # word splitting of the option list is intended
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 \
            -c shared_buffers=512MB $durability" >/dev/null
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    PG_STOP=("${run_as[@]}" "$bindir/pg_ctl" -D "$dir" stop -m fast)
    on_exit stop_postgres
    echo "postgres: private cluster at $DATABASE_URL ($dir)" >&2
}

stop_postgres() {
    if [ -n "${PG_STOP[*]:-}" ]; then
        "${PG_STOP[@]}" >/dev/null 2>&1 || true
    fi
}
