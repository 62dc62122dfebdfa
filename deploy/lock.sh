#!/usr/bin/env bash
# Re-resolves the dependencies declared in the packages' pyproject.toml files into requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/bootstrap.sh >/dev/null 2>&1 || true
export UV_PYTHON_DOWNLOADS=never UV_NATIVE_TLS=1
.tools/bin/uv lock --quiet --python python3.11
.tools/bin/uv export --quiet --frozen --no-emit-workspace --all-packages --all-groups -o requirements.lock
