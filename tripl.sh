#!/usr/bin/env sh
# tripl's front door: sets up everything it needs (uv, the locked environment) and then
#   ./tripl.sh serve [--port N]   run tripl on the embedded default (SQLite, in-process worker)
#   ./tripl.sh test  [pytest args] lint, type-check and run the whole test suite (API, then web UI)
#   ./tripl.sh ui-test             only the web UI part of `test` (lint, types, unit, build, browser)
#   ./tripl.sh ui-api              refresh frontend/openapi.json and the UI's typed client from the API
#   ./tripl.sh <command> ...       any tripl-server command (worker, migrate, create-user)
set -eu
cd "$(dirname "$0")"

UV_VERSION=0.13.9
if command -v uv >/dev/null 2>&1; then
    UV=uv
else
    if [ ! -x .tools/bin/uv ]; then
        echo "tripl: installing uv $UV_VERSION into .tools/ (one time)" >&2
        python3 -m venv .tools
        .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    fi
    UV=.tools/bin/uv
fi
export UV_PYTHON_DOWNLOADS=never

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # browser tests use Debian's chromium, never a download

# The web UI is built into the package (src/tripl/web) and committed; rebuild it only when it is missing.
build_ui_if_missing() {
    [ -f src/tripl/web/index.html ] && return 0
    if command -v npm >/dev/null 2>&1; then
        echo "tripl: building the web UI (one time)" >&2
        (cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
    else
        echo "tripl: the web UI is not built and npm is missing; the API still works" >&2
    fi
}

# Lint, type-check, unit-test and build the UI, then drive it in headless chromium against a real server.
test_ui() {
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$UV" run --frozen python frontend/scripts/dump_openapi.py "$tmp/openapi.json"
    if ! cmp -s "$tmp/openapi.json" frontend/openapi.json; then
        echo "tripl: frontend/openapi.json is older than the API; run ./tripl.sh ui-api and fix the UI" >&2
        exit 1
    fi
    if [ ! -x /usr/bin/chromium ]; then
        echo "tripl: installing Debian's chromium for the browser tests" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    (
        cd frontend
        npm ci --no-audit --no-fund --loglevel=error
        npx openapi-typescript openapi.json --default-non-nullable false -o src/api/schema.d.ts --check
        npm run --silent lint
        npm run --silent typecheck
        npx vitest run
        npm run --silent build
    )
    if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$(git status --porcelain -- src/tripl/web)" ]; then
        echo "tripl: the committed UI build (src/tripl/web) differs from the sources; commit the fresh build" >&2
        git status --short -- src/tripl/web >&2
        exit 1
    fi
    TRIPL_E2E_PORT=$("$UV" run --frozen python -c \
        'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    TRIPL_E2E_DATA_DIR="$tmp/data"
    TRIPL_E2E_SERVER="$(pwd)/.venv/bin/tripl-server"
    export TRIPL_E2E_PORT TRIPL_E2E_DATA_DIR TRIPL_E2E_SERVER
    (cd frontend && npm run --silent e2e)
    rm -rf "$tmp"
    trap - EXIT
}

command=${1:-serve}
[ $# -gt 0 ] && shift
case "$command" in
    test)
        "$UV" sync --frozen --quiet
        "$UV" run --frozen ruff check src tests bench
        "$UV" run --frozen ruff format --check src tests bench
        "$UV" run --frozen mypy src
        test_ui
        exec "$UV" run --frozen pytest -n 2 "$@"
        ;;
    ui-test)
        "$UV" sync --frozen --quiet
        test_ui
        ;;
    ui-api)
        "$UV" sync --frozen --quiet
        "$UV" run --frozen python frontend/scripts/dump_openapi.py frontend/openapi.json
        (cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent gen:api)
        ;;
    *)
        "$UV" sync --frozen --quiet
        build_ui_if_missing
        exec "$UV" run --frozen tripl-server "$command" "$@"
        ;;
esac
