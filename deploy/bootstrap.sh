#!/usr/bin/env bash
# Creates .venv with the pinned dependencies and the project's packages (editable).
# Builds the console's web app (npm ci + vite build, services/console/web/dist) and, for the browser tests,
# installs Debian's chromium, chromium-driver and a CJK font (fonts-wqy-microhei) with apt when they are missing
# (no browser is downloaded). Also installs wrk, the load generator of `make bench`, from Debian's packages when
# it is missing; without apt or root it only says so, since nothing else needs it. Likewise promtool (Debian's
# prometheus package), for the alert rules' test.
# Idempotent and quick when nothing changed; needs python3.11, node (20.19+) with npm, and the package registries.
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

# promtool, from Debian's prometheus package: tests/test_observability_deploy.py checks deploy/observability/'s
# alert rules with it (the package's server is not started here).
if ! command -v promtool >/dev/null; then
    if ((EUID == 0)) && command -v apt-get >/dev/null \
            && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >&2 \
                 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >&2; }; }; then
        echo "[bootstrap] installed promtool (Debian package prometheus) for the alert rules' tests" >&2
    else
        echo "[bootstrap] promtool is missing and could not be installed (apt-get install prometheus): the alert rules' test needs it" >&2
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
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
    [[ -x .venv/bin/python ]] || "$UV" venv --quiet --python "$PYTHON" .venv
    "$UV" pip sync --quiet --python .venv/bin/python requirements.lock
    editables=(-e libs/pbkit)
    for svc in services/*/; do editables+=(-e "$svc"); done
    "$UV" pip install --quiet --python .venv/bin/python --no-deps "${editables[@]}"
    echo "$want" > "$stamp"
fi

# The console's app: rebuilt when its sources or its lock file change.
web=services/console/web
web_stamp=$web/dist/.pb-built
web_want=$(find "$web" -path "$web/node_modules" -prune -o -path "$web/dist" -prune -o -type f -print0 \
    | sort -z | xargs -0 cat | sha256sum | cut -d' ' -f1)
if [[ ! -f $web_stamp || "$(cat "$web_stamp")" != "$web_want" ]]; then
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) >&2
    echo "$web_want" > "$web_stamp"
fi

# Debian's browser for the browser tests (Playwright drives /usr/bin/chromium; it downloads none), and a CJK font
# so that its screenshots show the Chinese UI.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver || ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] \
        && command -v apt-get >/dev/null; then
    sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >&2 \
        || echo "bootstrap: could not install chromium; the browser tests will be skipped" >&2
fi
