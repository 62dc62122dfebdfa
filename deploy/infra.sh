#!/usr/bin/env bash
# Start/stop the test infrastructure: a real PostgreSQL (deploy/postgres.sh) and a
# real Kafka (deploy/kafka.sh: one broker, or a 3-broker cluster), on free local ports.
#
#   deploy/infra.sh up     start both concurrently, write $PB_INFRA_DIR/infra.env
#   deploy/infra.sh down   stop both (safe when nothing runs), remove infra.env
#   deploy/infra.sh env    print infra.env (KEY=value lines)
#
# infra.env holds:
#   PB_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
#   PB_TEST_KAFKA_BOOTSTRAP=127.0.0.1:<port>
#   PB_INFRA_DIR=<abs dir>
#   PB_TEST_KAFKA_CTL=<abs path of deploy/kafka.sh>      (stop|start: same port on restart)
#   PB_TEST_POSTGRES_CTL=<abs path of deploy/postgres.sh>
#   PB_TEST_KAFKA_BROKERS, PB_TEST_KAFKA_REPLICATION_FACTOR, PB_TEST_KAFKA_MIN_INSYNC_REPLICAS (kafka.sh)
# (under PB_PG_PROFILE=durable the PostgreSQL URL carries the generated password; the file is then 0600)
# Load it with `set -a; . "$PB_INFRA_DIR/infra.env"; set +a`.
#
# Env: PB_INFRA_DIR (default <repo>/var/infra), PB_CACHE_DIR (see kafka.sh),
# PB_PG_PROFILE (test or durable, see postgres.sh), PB_KAFKA_BROKERS (1, the default, or 3: a 3-broker
# KRaft cluster, see kafka.sh; PB_TEST_KAFKA_BOOTSTRAP then lists all three).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PB_INFRA_DIR=${PB_INFRA_DIR:-$REPO/var/infra}
mkdir -p "$PB_INFRA_DIR"
PB_INFRA_DIR=$(cd "$PB_INFRA_DIR" && pwd)
export PB_INFRA_DIR
ENVFILE=$PB_INFRA_DIR/infra.env

log() { echo "[infra] $*" >&2; }

cmd_up() {
    local t0=$SECONDS pg_pid kafka_pid rc=0
    rm -f "$ENVFILE"
    "$HERE/postgres.sh" start &
    pg_pid=$!
    "$HERE/kafka.sh" start &
    kafka_pid=$!
    wait "$pg_pid" || { log "postgres failed to start"; rc=1; }
    wait "$kafka_pid" || { log "kafka failed to start"; rc=1; }
    if ((rc)); then
        log "infra up FAILED (run '$0 down' to stop what did start)"
        return 1
    fi
    local tmp
    tmp=$(mktemp "$PB_INFRA_DIR/.infra.env.XXXXXX")  # 0600: it may hold the PostgreSQL password
    {
        cat "$PB_INFRA_DIR/postgres.env" "$PB_INFRA_DIR/kafka.env"
        echo "PB_INFRA_DIR=$PB_INFRA_DIR"
        echo "PB_TEST_KAFKA_CTL=$HERE/kafka.sh"
        echo "PB_TEST_POSTGRES_CTL=$HERE/postgres.sh"
    } >"$tmp"
    mv -f "$tmp" "$ENVFILE"
    log "up in $((SECONDS - t0)) s; env in $ENVFILE"
}

cmd_down() {
    local rc=0 pg_pid kafka_pid
    rm -f "$ENVFILE"
    "$HERE/kafka.sh" stop &
    kafka_pid=$!
    "$HERE/postgres.sh" stop &
    pg_pid=$!
    wait "$kafka_pid" || rc=1
    wait "$pg_pid" || rc=1
    return "$rc"
}

cmd_env() {
    [[ -f $ENVFILE ]] || { log "no $ENVFILE: run '$0 up' first"; return 1; }
    cat "$ENVFILE"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
