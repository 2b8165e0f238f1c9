#!/usr/bin/env bash
# SIGAP's test command: installs what the tests need, then runs lint, type check and pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/exporter -k loss) in one run. Without
# them the suite runs as three pytest processes side by side: tests/e2e (the lab: namespaces
# sgl-*, 198.18.0.0/16), tests/exporter (namespaces sgx-*, 198.19.0.0/16) and everything else.
# Each folder's tests run one after another in its process, so no two labs meet; the lab tests
# mostly wait for its clocks, the rest mostly compute. SIGAP_TEST_SERIAL=1 runs all in one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check
mypy
if [ $# -gt 0 ] || [ -n "${SIGAP_TEST_SERIAL:-}" ]; then
  exec pytest "$@"
fi
APART=(tests/e2e tests/exporter)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
for folder in "${APART[@]}"; do
  pytest "$folder" -p no:cacheprovider >"$logs/${folder//\//_}.log" 2>&1 &
  pids+=("$!")
done
failed=0
pytest "${APART[@]/#/--ignore=}" || failed=1
for i in "${!APART[@]}"; do
  wait "${pids[$i]}" || failed=1
  echo "--- ${APART[$i]} ---"
  cat "$logs/${APART[$i]//\//_}.log"
done
exit "$failed"
