#!/usr/bin/env bash
# Starts the six services and the console (the office's web app, port 8000) with honcho (Ctrl-C stops them all).
#   deploy/run.sh          embedded default: one SQLite file per service and the local event log, under var/
#   deploy/run.sh kafka    production mode on one machine: PostgreSQL + Apache Kafka from deploy/infra.sh.
#                          PostgreSQL runs on its durable profile (fsync, synchronous_commit, full_page_writes on,
#                          scram-sha-256 password authentication; the password generated once into
#                          $PB_INFRA_DIR/postgres.password, given to the services as PGPASSWORD, never on a command
#                          line or in the Procfile). PB_KAFKA_BROKERS=3 (`make run-kafka CLUSTER=3`) runs the
#                          services on a 3-broker KRaft cluster (replication factor 3, min.insync.replicas 2) in
#                          an infra directory of its own ($PB_VAR_DIR/run-infra-3): a cluster's offsets and the
#                          database's record of processed events belong together.
#                          PB_REPLICAS=2 (`make run-kafka REPLICAS=2`) runs 2 processes of every service on
#                          internal ports (contract port + 10000 + 100 x replica) behind HAProxy (Debian's package),
#                          which listens on the contract ports and sends each request to a replica that answers
#                          /healthz. Migrations run once before; replica 1 of each service starts first (its
#                          start-up seeds the database), the others once it answers. A replica that dies is
#                          started again after 1 s. One outbox relay (and one title recovery) per service leads;
#                          consumers share partitions through their group.
#   deploy/run.sh --print-env [local|kafka]
#                          print the PB_* environment the services would get, and start nothing
# The bootstrap admin client (PB_BOOTSTRAP_ADMIN_ID / PB_BOOTSTRAP_ADMIN_SECRET), unless set: the well-known
# development pair only when PB_ENV is development (the default of `make run`); in any other mode (the default
# of `make run-kafka` is production) a random secret generated once and kept in $PB_VAR_DIR/bootstrap-admin.secret.
# The console's first staff admin (PB_BOOTSTRAP_STAFF_USERNAME / PB_BOOTSTRAP_STAFF_PASSWORD), unless set: a
# development pair only in development; in any other mode a random password kept in $PB_VAR_DIR/bootstrap-staff.secret.
set -euo pipefail
cd "$(dirname "$0")/.."
print_env=
if [[ "${1:-}" == "--print-env" ]]; then
    print_env=1
    shift
fi
mode=${1:-${PB_BUS:-local}}

if [[ "$mode" == "kafka" ]]; then
    export PB_ENV=${PB_ENV:-production}
else
    export PB_ENV=${PB_ENV:-development}
fi
# PB_VAR_DIR: where the SQLite files, the local event log, the Procfile and the generated admin secret go.
# PB_PORT_OFFSET: added to every port, to run a second copy beside the first.
export PB_VAR_DIR=${PB_VAR_DIR:-var}
offset=${PB_PORT_OFFSET:-0}
mkdir -p "$PB_VAR_DIR"
export PB_REGISTRY_URL=${PB_REGISTRY_URL:-http://127.0.0.1:$((8001 + offset))}
# Where the console's proxy finds the others, and where the market finds the transactions service.
export PB_TRANSACTIONS_URL=${PB_TRANSACTIONS_URL:-http://127.0.0.1:$((8002 + offset))}
export PB_PLEDGE_URL=${PB_PLEDGE_URL:-http://127.0.0.1:$((8003 + offset))}
export PB_PRODUCT_FILING_URL=${PB_PRODUCT_FILING_URL:-http://127.0.0.1:$((8004 + offset))}
export PB_METRICS_URL=${PB_METRICS_URL:-http://127.0.0.1:$((8005 + offset))}
export PB_MARKET_URL=${PB_MARKET_URL:-http://127.0.0.1:$((8006 + offset))}
# The console serves plain HTTP on 127.0.0.1 here; behind the office's TLS proxy set PB_COOKIE_SECURE=true.
export PB_COOKIE_SECURE=${PB_COOKIE_SECURE:-false}

admin_note=
if [[ -z "${PB_BOOTSTRAP_ADMIN_ID:-}" && -z "${PB_BOOTSTRAP_ADMIN_SECRET:-}" ]]; then
    if [[ "$PB_ENV" == "development" ]]; then
        export PB_BOOTSTRAP_ADMIN_ID=dev-admin
        export PB_BOOTSTRAP_ADMIN_SECRET=dev-admin-secret-do-not-use-in-production
        admin_note="Development admin client"
    else
        # Never the development pair outside development: a random secret, kept so that restarts reuse it.
        secret_file=$PB_VAR_DIR/bootstrap-admin.secret
        if [[ ! -s "$secret_file" ]]; then
            raw=$(head -c 48 /dev/urandom | base64 -w0)
            (umask 077 && printf '%s\n' "${raw//[^A-Za-z0-9]/}" > "$secret_file")
        fi
        export PB_BOOTSTRAP_ADMIN_ID=admin
        PB_BOOTSTRAP_ADMIN_SECRET=$(head -n 1 "$secret_file")
        export PB_BOOTSTRAP_ADMIN_SECRET
        admin_note="Admin client (PB_ENV=$PB_ENV; generated once, kept in $secret_file)"
    fi
fi
staff_note=
if [[ -z "${PB_BOOTSTRAP_STAFF_USERNAME:-}" && -z "${PB_BOOTSTRAP_STAFF_PASSWORD:-}" ]]; then
    export PB_BOOTSTRAP_STAFF_USERNAME=admin
    if [[ "$PB_ENV" == "development" ]]; then
        export PB_BOOTSTRAP_STAFF_PASSWORD=dev-admin-password
        staff_note="Development console login"
    else
        staff_file=$PB_VAR_DIR/bootstrap-staff.secret
        if [[ ! -s "$staff_file" ]]; then
            raw=$(head -c 48 /dev/urandom | base64 -w0)
            (umask 077 && printf '%s\n' "${raw//[^A-Za-z0-9]/}" > "$staff_file")
        fi
        PB_BOOTSTRAP_STAFF_PASSWORD=$(head -n 1 "$staff_file")
        export PB_BOOTSTRAP_STAFF_PASSWORD
        staff_note="Console login (PB_ENV=$PB_ENV; generated once, kept in $staff_file)"
    fi
fi
# The credential the services' own background work acts with toward the registry (the recovery of a title
# command left pending, docs/TITLE_ARBITER.md): on one machine, the bootstrap admin client.
export PB_SERVICE_CLIENT_ID=${PB_SERVICE_CLIENT_ID:-$PB_BOOTSTRAP_ADMIN_ID}
export PB_SERVICE_CLIENT_SECRET=${PB_SERVICE_CLIENT_SECRET:-$PB_BOOTSTRAP_ADMIN_SECRET}
if [[ "$mode" == "kafka" ]]; then export PB_BUS=kafka; else export PB_BUS=local; fi

if [[ -n "$print_env" ]]; then
    env | grep '^PB_' | sort
    exit 0
fi

deploy/bootstrap.sh

declare -A ports=([registry]=8001 [transactions]=8002 [pledge]=8003 [product_filing]=8004 [metrics]=8005 [market]=8006 [console]=8000)
order=(registry transactions pledge product_filing metrics market console)
procfile=$PB_VAR_DIR/Procfile

replicas=${PB_REPLICAS:-1}
[[ $replicas =~ ^[1-9]$ ]] || { echo "PB_REPLICAS (REPLICAS) must be 1..9" >&2; exit 2; }
if ((replicas > 1)); then
    [[ "$mode" == "kafka" ]] || { echo "replicas share a PostgreSQL database: use make run-kafka REPLICAS=$replicas" >&2; exit 2; }
    if ! command -v haproxy >/dev/null; then
        sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
        $sudo apt-get install -y -qq haproxy >&2 || { $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq haproxy >&2; } \
            || { echo "REPLICAS needs HAProxy (apt-get install haproxy)" >&2; exit 1; }
    fi
fi

if [[ "$mode" == "kafka" ]]; then
    brokers=${PB_KAFKA_BROKERS:-1}
    [[ $brokers == 1 || $brokers == 3 ]] || { echo "PB_KAFKA_BROKERS (CLUSTER) must be 1 or 3" >&2; exit 2; }
    export PB_KAFKA_BROKERS=$brokers PB_PG_PROFILE=durable
    var_abs=$(cd "$PB_VAR_DIR" && pwd)  # PB_VAR_DIR may be relative (var, the default) or absolute
    if ((brokers == 1)); then
        export PB_INFRA_DIR=${PB_INFRA_DIR:-$var_abs/run-infra}
    else
        export PB_INFRA_DIR=${PB_INFRA_DIR:-$var_abs/run-infra-$brokers}
    fi
    deploy/infra.sh up
    # shellcheck disable=SC1091
    source "$PB_INFRA_DIR/infra.env"
    export PB_BUS=kafka PB_KAFKA_BOOTSTRAP_SERVERS=$PB_TEST_KAFKA_BOOTSTRAP
    export PB_KAFKA_REPLICATION_FACTOR=${PB_TEST_KAFKA_REPLICATION_FACTOR:-1}
    export PB_KAFKA_MIN_INSYNC_REPLICAS=${PB_TEST_KAFKA_MIN_INSYNC_REPLICAS:-1}
    # The services connect without the password in their URL: libpq reads it from PGPASSWORD.
    PGPASSWORD=$(head -n 1 "$PB_INFRA_DIR/postgres.password")
    export PGPASSWORD
    pg_base=postgresql+psycopg://postgres@${PB_TEST_POSTGRES_URL#*@}
    pg_base=${pg_base%/*}
    for svc in "${order[@]}"; do
        .venv/bin/python - "$PB_TEST_POSTGRES_URL" "pb_$svc" <<'PY'
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": sys.argv[2]}).first():
        conn.execute(text(f'CREATE DATABASE "{sys.argv[2]}"'))
PY
    done
    trap 'deploy/infra.sh down' EXIT
fi

(umask 077 && : > "$procfile")
if ((replicas == 1)); then
    for svc in "${order[@]}"; do
        db_env=""
        [[ "$mode" == "kafka" ]] && db_env="PB_DATABASE_URL=$pg_base/pb_$svc"
        echo "$svc: env PB_SERVICE_NAME=$svc $db_env .venv/bin/python -m pb_$svc --port $((ports[$svc] + offset))" >> "$procfile"
    done
else
    haproxy_cfg=$PB_VAR_DIR/haproxy.cfg
    cat > "$haproxy_cfg" <<EOF
# Generated by deploy/run.sh: the contract ports, each in front of the replicas of its service.
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    # A replica that refuses the connection (killed) is skipped: the request goes to another.
    retries 2
    option redispatch
EOF
    for svc in "${order[@]}"; do
        # Migrated once, here: replicas starting together would race on the same schema.
        .venv/bin/python -c 'import sys; from pbkit.migrations import upgrade_head; upgrade_head(sys.argv[1], sys.argv[2])' \
            "pb_$svc" "$pg_base/pb_$svc"
        {
            echo "frontend $svc"
            echo "    bind 127.0.0.1:$((ports[$svc] + offset))"
            echo "    default_backend ${svc}_replicas"
            echo "backend ${svc}_replicas"
            echo "    balance roundrobin"
            echo "    option httpchk GET /healthz"
            for ((r = 1; r <= replicas; r++)); do
                echo "    server ${svc}_$r 127.0.0.1:$((ports[$svc] + 10000 + 100 * r + offset)) check inter 1s fall 2 rise 1"
            done
        } >> "$haproxy_cfg"
        first=$((ports[$svc] + 10100 + offset))
        for ((r = 1; r <= replicas; r++)); do
            port=$((ports[$svc] + 10000 + 100 * r + offset))
            wait_first=""
            ((r > 1)) && wait_first="until curl -sf -o /dev/null http://127.0.0.1:$first/healthz; do sleep 0.5; done; "
            # Supervised as systemd's Restart=always would: a replica that dies (kill -9) is started again, and
            # the others, and honcho, go on (honcho stops everything when one of its processes ends).
            echo "${svc}_$r: sh -c '${wait_first}while :; do env PB_SERVICE_NAME=$svc PB_DATABASE_URL=$pg_base/pb_$svc .venv/bin/python -m pb_$svc --no-migrate --port $port; echo \"${svc}_$r exited (\$?); restarting in 1 s\" >&2; sleep 1; done'" >> "$procfile"
        done
    done
    haproxy -c -q -f "$haproxy_cfg" || { echo "haproxy refused $haproxy_cfg" >&2; exit 1; }
    echo "lb: haproxy -db -f $haproxy_cfg" >> "$procfile"
fi

if [[ "$mode" == "kafka" ]]; then
    echo "PatentBridge (kafka mode: $PB_KAFKA_BROKERS broker(s) at $PB_KAFKA_BOOTSTRAP_SERVERS, durable PostgreSQL) starting:"
else
    echo "PatentBridge ($mode mode) starting:"
fi
for svc in "${order[@]}"; do
    [[ "$svc" == console ]] && continue
    printf '  %-15s http://127.0.0.1:%s  (OpenAPI: /docs)\n' "$svc" "$((ports[$svc] + offset))"
done
((replicas > 1)) && echo "  (each: $replicas replicas behind HAProxy, on ports contract + 10100, + 10200, ...)"
printf '  %-15s http://127.0.0.1:%s  (the office'"'"'s web app)\n' console "$((ports[console] + offset))"
if [[ -n "$admin_note" ]]; then
    echo "$admin_note: PB_BOOTSTRAP_ADMIN_ID=$PB_BOOTSTRAP_ADMIN_ID PB_BOOTSTRAP_ADMIN_SECRET=$PB_BOOTSTRAP_ADMIN_SECRET"
fi
if [[ -n "$staff_note" ]]; then
    echo "$staff_note: http://127.0.0.1:$((ports[console] + offset))  username $PB_BOOTSTRAP_STAFF_USERNAME  password $PB_BOOTSTRAP_STAFF_PASSWORD"
fi
echo "Press Ctrl-C to stop."
exec_status=0
.venv/bin/honcho -f "$procfile" -d . start || exec_status=$?
exit $exec_status
