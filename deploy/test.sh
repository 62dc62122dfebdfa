#!/usr/bin/env bash
# The whole suite against a real PostgreSQL and a real Apache Kafka, provisioned here and stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/bootstrap.sh
.venv/bin/ruff check libs services tests bench

export PB_INFRA_DIR=${PB_INFRA_DIR:-$PWD/var/test-infra}
trap 'deploy/infra.sh down >/dev/null 2>&1 || true' EXIT
if ! deploy/infra.sh up; then
    echo "could not provision PostgreSQL and Kafka for the integration tests" >&2
    exit 1
fi
set -a
# shellcheck disable=SC1091
source "$PB_INFRA_DIR/infra.env"
set +a
export PB_REQUIRE_INFRA=1
# The slowest tests are listed at the end, so that each issue's share of the suite's time can be read off a run.
.venv/bin/python -m pytest --durations=40 libs services tests "$@"
