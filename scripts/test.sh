#!/usr/bin/env bash
# SIGAP's test command: installs what the tests need, then runs lint, type check and pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/exporter -k loss) in one run. Without
# them the suite runs as two pytest processes side by side: the tests that build networks
# (tests/e2e: the lab; tests/exporter: namespaces of their own) one after another, since they
# share the host's namespaces and routes, and everything else beside them (the lab tests mostly
# wait for its clocks, the rest mostly compute). SIGAP_TEST_SERIAL=1 runs all in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check
mypy
if [ $# -gt 0 ] || [ -n "${SIGAP_TEST_SERIAL:-}" ]; then
  exec pytest "$@"
fi
lab_log=$(mktemp)
trap 'rm -f "$lab_log"' EXIT
NETWORK_TESTS=(tests/e2e tests/exporter)
pytest "${NETWORK_TESTS[@]}" -p no:cacheprovider >"$lab_log" 2>&1 &
lab=$!
rest=0
pytest "${NETWORK_TESTS[@]/#/--ignore=}" || rest=$?
lab_status=0
wait "$lab" || lab_status=$?
echo "--- the tests that build networks (${NETWORK_TESTS[*]}) ---"
cat "$lab_log"
[ "$rest" -eq 0 ] && [ "$lab_status" -eq 0 ]
