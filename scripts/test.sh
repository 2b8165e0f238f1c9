#!/usr/bin/env bash
# SIGAP's test command: installs what the tests need, then runs lint, type check and pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/exporter -k loss).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check
mypy
exec pytest "$@"
