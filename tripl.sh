#!/usr/bin/env sh
# tripl's front door: sets up everything it needs (uv, the locked environment) and then
#   ./tripl.sh serve [--port N]   run tripl on the embedded default (SQLite, in-process worker)
#   ./tripl.sh test  [pytest args] lint, type-check and run the whole test suite
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

command=${1:-serve}
[ $# -gt 0 ] && shift
case "$command" in
    test)
        "$UV" sync --frozen --quiet
        "$UV" run --frozen ruff check src tests bench
        "$UV" run --frozen ruff format --check src tests bench
        "$UV" run --frozen mypy src
        exec "$UV" run --frozen pytest -n 2 "$@"
        ;;
    *)
        "$UV" sync --frozen --quiet
        exec "$UV" run --frozen tripl-server "$command" "$@"
        ;;
esac
