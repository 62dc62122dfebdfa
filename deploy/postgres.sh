#!/usr/bin/env bash
# Provision and run a real PostgreSQL server (Debian's package) on a free local
# port, for the test suite.
#
#   deploy/postgres.sh start   install the server if missing, initdb once, start, wait until
#                              ready, write $PB_INFRA_DIR/postgres.env (PB_TEST_POSTGRES_URL=...)
#   deploy/postgres.sh stop    pg_ctl stop -m fast (data dir kept)
#   deploy/postgres.sh status  exit 0 if running
#   deploy/postgres.sh env     print postgres.env
#
# Starting when already running is a no-op that (re)writes the env file.
# Two profiles, applied at each start (pg_hba.conf is rewritten and the server options given on its command line):
#   test (the default; the test suite's instance): trust authentication on 127.0.0.1, durability off (fsync,
#        synchronous_commit, full_page_writes) for speed. An immediate restart may lose acknowledged commits.
#   durable (`make run-kafka`, bench/): fsync, synchronous_commit and full_page_writes on, and scram-sha-256
#        password authentication for every connection. The password of the `postgres` role is generated once
#        (alphanumeric, 32 characters) into $PB_INFRA_DIR/postgres.password (mode 0600; under var/, never
#        committed) and is part of the URL in postgres.env, which is mode 0600 too.
# max_connections is 300 in both (see the arithmetic at SERVER_MAX_CONNECTIONS below).
# As root the server runs as the `postgres` OS user (PostgreSQL refuses root).
#
# Env: PB_INFRA_DIR (default <repo>/var/infra), PB_PG_PROFILE (test, the default, or durable).
set -euo pipefail

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
# shellcheck source=deploy/infra-lib.sh
source "$(dirname "$SELF")/infra-lib.sh"
ENVFILE=$PB_INFRA_DIR/postgres.env
LOCATION=$PB_INFRA_DIR/pg.location   # records the data dir when it isn't $PB_INFRA_DIR/pg
PASSWORD_FILE=$PB_INFRA_DIR/postgres.password
# Connections, sized so that 2 replicas of every service fit. Per service process (pbkit.db.make_engine):
# a pool of PB_DB_POOL_SIZE=10 plus PB_DB_MAX_OVERFLOW=10 (20), the relay's LISTEN connection (1) and one spare
# for a rebuild's or a migration's own engine (1): 22. Six processes (registry, transactions, pledge,
# product-filing, metrics, console) x 2 replicas = 12 x 22 = 264, plus 3 reserved for superusers and ~30 for
# psql, backups, checks and test fixtures: 300. An idle connection costs little; 300 fit 128 MB shared_buffers.
SERVER_MAX_CONNECTIONS=300

log() { echo "[postgres] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $d && -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] || return 1
    echo "$d"
}

ensure_server() {
    if ! BIN=$(pg_bindir); then
        log "PostgreSQL server binaries missing: installing Debian's postgresql package"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        BIN=$(pg_bindir) || die "postgresql installed but no server binaries under /usr/lib/postgresql/*/bin"
    fi
    command -v python3 >/dev/null || die "python3 is needed to pick a free port"
    if ((EUID == 0)); then
        id -u postgres >/dev/null 2>&1 || die "no 'postgres' OS user (the Debian package creates it)"
        RUN_AS=postgres
    else
        RUN_AS=""
    fi
}

# Run a command as the server's OS user, from / (root's cwd may be unreadable to it).
as_pg() {
    if [[ -n $RUN_AS ]]; then
        (cd / && runuser -u "$RUN_AS" -- "$@")
    else
        (cd / && "$@")
    fi
}

can_use_dir() { as_pg test -d "$1" -a -r "$1" -a -w "$1" -a -x "$1"; }

# Sets PGDATA (creating its parent as needed). Prefers $PB_INFRA_DIR/pg; if the
# server's OS user can't reach it (e.g. the repo lies under a 0700 home), falls
# back to /tmp/pb-pg-<hash of $PB_INFRA_DIR> and records that in $LOCATION.
resolve_datadir() {
    if [[ -f $LOCATION ]]; then
        PGDATA=$(cat "$LOCATION")
        mkdir -p "$PGDATA"
    else
        PGDATA=$PB_INFRA_DIR/pg
        mkdir -p "$PGDATA"
    fi
    [[ -n $RUN_AS ]] && chown "$RUN_AS:" "$PGDATA"
    chmod 700 "$PGDATA"
    if ! can_use_dir "$PGDATA"; then
        [[ -f $LOCATION ]] && die "data dir $PGDATA (from $LOCATION) is not usable by ${RUN_AS:-$USER}"
        rmdir "$PGDATA" 2>/dev/null || true
        local h
        h=$(printf '%s' "$PB_INFRA_DIR" | sha256sum | cut -c1-16)
        PGDATA=/tmp/pb-pg-$h/pg
        log "$PB_INFRA_DIR is not traversable by $RUN_AS: using $PGDATA"
        mkdir -p "$PGDATA"
        chmod 755 "$(dirname "$PGDATA")"
        [[ -n $RUN_AS ]] && chown "$RUN_AS:" "$PGDATA"
        chmod 700 "$PGDATA"
        can_use_dir "$PGDATA" || die "$PGDATA is not usable by $RUN_AS"
        echo "$PGDATA" >"$LOCATION"
    fi
    PGLOG=$PGDATA/server.log
}

# Existing data dir without creating anything (for stop/status). Returns 1 if none.
existing_datadir() {
    if [[ -f $LOCATION ]]; then
        PGDATA=$(cat "$LOCATION")
    else
        PGDATA=$PB_INFRA_DIR/pg
    fi
    [[ -f $PGDATA/PG_VERSION ]]
}

is_running() { as_pg "$BIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; }

running_port() { sed -n 4p "$PGDATA/postmaster.pid"; }

# The URL of the superuser: with its password under the durable profile (the env file is then 0600).
server_url() {
    local port=$1
    if [[ ${PB_PG_PROFILE:-test} == durable ]]; then
        echo "postgresql+psycopg://postgres:$(head -n 1 "$PASSWORD_FILE")@127.0.0.1:$port/postgres"
    else
        echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    fi
}

write_env() {
    local port=$1
    (umask 077 && write_env_file "$ENVFILE" "PB_TEST_POSTGRES_URL=$(server_url "$port")")
}

# Server options of the profile, given at start so that they override postgresql.conf's test settings.
profile_options() {
    case "${PB_PG_PROFILE:-test}" in
        test) echo "-c max_connections=$SERVER_MAX_CONNECTIONS" ;;
        durable) echo "-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=$SERVER_MAX_CONNECTIONS -c password_encryption=scram-sha-256" ;;
        *) die "PB_PG_PROFILE must be test or durable, not '$PB_PG_PROFILE'" ;;
    esac
}

# The durable profile's password, generated once (alphanumeric: no quoting anywhere).
ensure_password() {
    if [[ ! -s $PASSWORD_FILE ]]; then
        local raw
        raw=$(head -c 64 /dev/urandom | base64 -w0)
        raw=${raw//[^A-Za-z0-9]/}
        (umask 077 && printf '%s\n' "${raw:0:32}" >"$PASSWORD_FILE")
    fi
}

# Before a start, with the server stopped: the profile's authentication. durable: the role's password is set in
# single-user mode (read from stdin, never on a command line) and pg_hba.conf asks every connection for it.
apply_auth() {
    local method=trust
    if [[ ${PB_PG_PROFILE:-test} == durable ]]; then
        method=scram-sha-256
        ensure_password
        if ! printf "SET password_encryption = 'scram-sha-256';\nALTER ROLE postgres PASSWORD '%s';\n" \
                "$(head -n 1 "$PASSWORD_FILE")" \
                | as_pg "$BIN/postgres" --single -D "$PGDATA" -c unix_socket_directories= postgres \
                    >"$PB_INFRA_DIR/set-password.log" 2>&1; then
            cat "$PB_INFRA_DIR/set-password.log" >&2
            die "could not set the postgres role's password"
        fi
    fi
    as_pg tee "$PGDATA/pg_hba.conf" >/dev/null <<EOF
# Generated by deploy/postgres.sh at each start (profile ${PB_PG_PROFILE:-test}): TCP on loopback only.
host all all 127.0.0.1/32 $method
host all all ::1/128 $method
EOF
}

cmd_start() {
    local options
    options=$(profile_options)
    ensure_server
    exec 9>"$PB_INFRA_DIR/.postgres.lock"
    flock 9
    resolve_datadir

    if is_running; then
        local port
        port=$(running_port)
        write_env "$port"
        log "already running on 127.0.0.1:$port (data $PGDATA)"
        return 0
    fi

    if [[ ! -f $PGDATA/PG_VERSION ]]; then
        log "initdb $PGDATA ($("$BIN/postgres" --version))"
        if ! as_pg "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-locale \
                --no-sync >"$PB_INFRA_DIR/initdb.log" 2>&1; then
            cat "$PB_INFRA_DIR/initdb.log" >&2
            die "initdb failed"
        fi
        # Test-only settings: TCP on loopback only, no Unix socket (its default dir may
        # not exist on a fresh machine), durability off for speed.
        as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null <<'EOF'

# --- deploy/postgres.sh (test instance) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
logging_collector = off
log_min_messages = warning
EOF
    fi

    # Reuse the previous port when it is still free, so a restart keeps its URL.
    local port=""
    [[ -f $PGDATA/pb.port ]] && port=$(cat "$PGDATA/pb.port")
    if [[ -z $port ]] || ! port_free "$port"; then
        port=$(free_port)
    fi
    as_pg sh -c "echo $port > '$PGDATA/pb.port'"
    apply_auth

    log "starting on 127.0.0.1:$port (profile ${PB_PG_PROFILE:-test}, data $PGDATA, log $PGLOG)"
    if ! as_pg "$BIN/pg_ctl" start -D "$PGDATA" -l "$PGLOG" -o "-p $port $options" -w -t 60 -s >/dev/null 2>&1 9>&-; then
        tail -n 40 "$PGLOG" >&2 || true
        die "pg_ctl start failed"
    fi
    local i
    for ((i = 0; i < 120; i++)); do
        "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres && break
        sleep 0.5
    done
    if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
        tail -n 40 "$PGLOG" >&2 || true
        die "server did not become ready on port $port"
    fi
    write_env "$port"
    log "ready on 127.0.0.1:$port (profile ${PB_PG_PROFILE:-test}; URL in $ENVFILE)"
}

cmd_stop() {
    BIN=$(pg_bindir) || { log "not installed, nothing to stop"; return 0; }
    RUN_AS=""
    ((EUID == 0)) && RUN_AS=postgres
    existing_datadir || { log "not running (no data dir)"; return 0; }
    exec 9>"$PB_INFRA_DIR/.postgres.lock"
    flock 9
    if is_running; then
        log "stopping (data $PGDATA)"
        as_pg "$BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 60 -s 9>&-
        log "stopped"
    else
        log "not running"
    fi
}

cmd_status() {
    BIN=$(pg_bindir) || { echo "stopped"; return 1; }
    RUN_AS=""
    ((EUID == 0)) && RUN_AS=postgres
    if existing_datadir && is_running; then
        echo "running on 127.0.0.1:$(running_port) (data $PGDATA)"
    else
        echo "stopped"
        return 1
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cat "$ENVFILE" ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
