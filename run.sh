#!/bin/sh
# One entry point for a fresh machine with Python 3.11 and the package registries:
#   ./run.sh chat   install, build the index on first run, start the chat on http://127.0.0.1:7860
#   ./run.sh test   install (with test tools and Debian's chromium for browser tests), run all tests
set -eu
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv

install() {
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # torch is pinned in pyproject.toml to the CPU build 2.13.0.
    "$VENV/bin/python" -m pip install --quiet -e ".$1"
}

case "${1:-}" in
chat)
    shift
    install ""
    exec "$VENV/bin/python" app.py "$@"
    ;;
test)
    shift
    install "[test]"
    if [ ! -x /usr/bin/chromium ]; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq chromium >/dev/null
        elif command -v sudo >/dev/null 2>&1; then
            sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null
        else
            echo "run.sh: the browser tests need Debian's chromium (apt-get install chromium)" >&2
            exit 1
        fi
    fi
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
*)
    echo "usage: ./run.sh chat [--port N] | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
