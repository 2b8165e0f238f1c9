#!/usr/bin/env bash
# SIGAP's test command: installs what the tests need, then runs lint, type check and pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/exporter -k loss). The tests run on
# SIGAP_TEST_WORKERS pytest-xdist workers (default 2): the lab tests one after another on one of
# them, the rest beside them (tests/conftest.py); SIGAP_TEST_WORKERS=0 runs all in this process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check
mypy
exec pytest -n "${SIGAP_TEST_WORKERS:-2}" --dist loadgroup "$@"
