#!/usr/bin/env bash
# Starts the six services and the console (the office's web app, port 8000) with honcho (Ctrl-C stops them all).
#   deploy/run.sh          embedded default: one SQLite file per service and the local event log, under var/
#   deploy/run.sh kafka    production mode on one machine: PostgreSQL + Apache Kafka from deploy/infra.sh
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

if [[ "$mode" == "kafka" ]]; then
    export PB_INFRA_DIR=${PB_INFRA_DIR:-$PWD/$PB_VAR_DIR/run-infra}
    deploy/infra.sh up
    # shellcheck disable=SC1091
    source "$PB_INFRA_DIR/infra.env"
    export PB_BUS=kafka PB_KAFKA_BOOTSTRAP_SERVERS=$PB_TEST_KAFKA_BOOTSTRAP
    pg_base=${PB_TEST_POSTGRES_URL%/*}
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

: > "$procfile"
for svc in "${order[@]}"; do
    db_env=""
    [[ "$mode" == "kafka" ]] && db_env="PB_DATABASE_URL=$pg_base/pb_$svc"
    echo "$svc: env PB_SERVICE_NAME=$svc $db_env .venv/bin/python -m pb_$svc --port $((ports[$svc] + offset))" >> "$procfile"
done

echo "PatentBridge ($mode mode) starting:"
for svc in "${order[@]}"; do
    [[ "$svc" == console ]] && continue
    printf '  %-15s http://127.0.0.1:%s  (OpenAPI: /docs)\n' "$svc" "$((ports[$svc] + offset))"
done
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
