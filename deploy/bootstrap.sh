#!/usr/bin/env bash
# Creates .venv with the pinned dependencies and the project's packages (editable).
# Idempotent and quick when nothing changed; needs only python3.11 and the package registry.
# Also installs wrk, the load generator of `make bench`, from Debian's packages when it is missing
# (as deploy/postgres.sh installs the server); without apt or root it only says so, since nothing else needs it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
    if ((EUID == 0)) && command -v apt-get >/dev/null \
            && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2 \
                 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }; }; then
        echo "[bootstrap] installed wrk (Debian package) for make bench" >&2
    else
        echo "[bootstrap] wrk is missing and could not be installed (apt-get install wrk): make bench needs it" >&2
    fi
fi

UV_VERSION=0.13.8
PYTHON=${PYTHON:-python3.11}
export UV_PYTHON_DOWNLOADS=never UV_NATIVE_TLS=1

if [[ ! -x .tools/bin/uv ]] || [[ "$(.tools/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
    "$PYTHON" -m venv .tools
    .tools/bin/pip install --quiet "uv==$UV_VERSION"
fi
UV=.tools/bin/uv

stamp=.venv/.pb-installed
want=$(cat requirements.lock libs/*/pyproject.toml services/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi
[[ -x .venv/bin/python ]] || "$UV" venv --quiet --python "$PYTHON" .venv
"$UV" pip sync --quiet --python .venv/bin/python requirements.lock
editables=(-e libs/pbkit)
for svc in services/*/; do editables+=(-e "$svc"); done
"$UV" pip install --quiet --python .venv/bin/python --no-deps "${editables[@]}"
echo "$want" > "$stamp"
