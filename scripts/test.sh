#!/usr/bin/env bash
# SIGAP's test command: installs what the tests need, then runs lint, type check and pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/exporter -k loss) in one run. Without
# them the suite runs as two pytest processes side by side: the tests that build a lab (network
# namespaces, the real Prometheus and Alertmanager; markers e2e and root) one after another, and
# everything else beside them (those tests mostly wait for the lab's clocks, the rest mostly
# compute). SIGAP_TEST_SERIAL=1 runs it all in one process.
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
pytest -m "e2e or root" -p no:cacheprovider >"$lab_log" 2>&1 &
lab=$!
rest=0
pytest -m "not (e2e or root)" || rest=$?
lab_status=0
wait "$lab" || lab_status=$?
echo "--- the lab tests (markers e2e and root) ---"
cat "$lab_log"
[ "$rest" -eq 0 ] && [ "$lab_status" -eq 0 ]
