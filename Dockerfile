# One image recipe for every httpmon binary: `docker build --build-arg BIN=ingest .` (or stats,
# alerts, monolith; the default is the monolith).
#
# The builder stage does not depend on BIN: it compiles all four binaries once, so building the
# four images (as docker compose does) compiles the workspace once and shares the layer. It
# first builds the dependencies against placeholder sources, so a change to the project's code
# does not recompile the crates it depends on. (No BuildKit cache mounts: the plain builder of
# older engines must be able to build this file too.)

# The workspace's manifests alone, wherever its crates are under services/. Copied from here,
# they make a layer that stays cached until a manifest changes, not when any source does.
FROM rust:1.95-slim-bookworm AS manifests
WORKDIR /src
COPY services services
RUN find services -type f ! -name Cargo.toml -delete && find services -type d -empty -delete

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src

# Dependencies only: the manifests, the lockfile, and empty crates in place of the real ones.
COPY Cargo.toml Cargo.lock ./
COPY --from=manifests /src/services services
# The binaries this stage builds; every image picks one of them. $BINS is a list of words,
# split on purpose (SC2046).
ARG BINS="ingest stats alerts monolith"
# hadolint ignore=SC2046
RUN set -eu; \
    for manifest in $(find services -name Cargo.toml); do \
        crate=$(dirname "$manifest"); mkdir -p "$crate/src" && : >"$crate/src/lib.rs"; \
    done; \
    for bin in $BINS; do echo 'fn main() {}' >"services/$bin/src/main.rs"; done; \
    cargo build --release --locked $(printf -- '--bin %s ' $BINS); \
    rm -rf services

# The real sources. Touching them makes them newer than the placeholders' build, so cargo
# rebuilds the project's crates whatever times the build context carried.
COPY services services
# hadolint ignore=SC2046
RUN set -eu; \
    find services -type f -name '*.rs' -exec touch {} +; \
    cargo build --release --locked $(printf -- '--bin %s ' $BINS); \
    mkdir -p /out; \
    for bin in $BINS; do cp "target/release/$bin" /out/; done

FROM debian:bookworm-slim
# ca-certificates for outgoing HTTPS (alert webhooks); nothing else: no compiler, no curl.
# Not pinned (DL3008): bookworm's security updates replace versions, and a pin would break.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 httpmon \
    && useradd --no-log-init --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin httpmon
ARG BIN=monolith
COPY --from=builder /out/${BIN} /usr/local/bin/${BIN}
RUN ln -s "${BIN}" /usr/local/bin/app
ENV HTTPMON_SERVICE=${BIN} \
    PORT=8080
USER 10001:10001
EXPOSE 8080
# Ready means the service answers and its database does. The probe is bash's /dev/tcp, which
# the slim base already has, instead of installing curl into the image for this one request.
HEALTHCHECK --interval=10s --timeout=3s --start-period=90s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]
ENTRYPOINT ["/usr/local/bin/app"]
