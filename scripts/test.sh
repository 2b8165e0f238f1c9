#!/usr/bin/env bash
# SIGAP's test command: installs what the tests need, then runs lint, type check and pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/exporter -k loss) in one run. Without
# them the suite runs as four pytest processes side by side, each folder's tests one after
# another: the lab tests in two halves (tests/e2e: namespaces sgl-*, 198.18.0.0/16; the second
# half from a network namespace of its own, where its loopback ports, its routes and its lab,
# named sgm-*, are apart from the first's), tests/exporter (namespaces sgx-*, 198.19.0.0/16)
# and everything else. The lab tests mostly wait for their clocks, the rest mostly compute.
# SIGAP_TEST_SERIAL=1 runs all in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check
if [ $# -gt 0 ] || [ -n "${SIGAP_TEST_SERIAL:-}" ]; then
  mypy
  exec pytest "$@"
fi

# The second half of the lab tests: the longest modules, about half of tests/e2e's time.
E2E_APART=(tests/e2e/test_ha.py tests/e2e/test_panels.py tests/e2e/test_meta_monitoring.py
  tests/e2e/test_maintenance.py tests/e2e/test_status.py tests/e2e/test_telegram.py)
APART_NETNS=sigap-test-apart

logs=$(mktemp -d)
cleanup() {
  ip netns delete "$APART_NETNS" 2>/dev/null || true
  rm -rf "$logs"
}
trap cleanup EXIT

# Each job: a name, then the command. The first runs in the foreground, its output live.
names=() pids=()
background() {
  local name=$1
  shift
  "$@" >"$logs/$name.log" 2>&1 &
  names+=("$name")
  pids+=("$!")
}
background mypy mypy
if [ "$(id -u)" = 0 ]; then ip netns delete "$APART_NETNS" 2>/dev/null || true; fi  # a crashed run's
if [ "$(id -u)" = 0 ] && ip netns add "$APART_NETNS" 2>/dev/null; then
  ip -n "$APART_NETNS" link set lo up
  nsenter --net="/run/netns/$APART_NETNS" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
  background e2e-apart nsenter --net="/run/netns/$APART_NETNS" env SIGAP_LAB_PREFIX=sgm \
    pytest "${E2E_APART[@]}" -p no:cacheprovider
  background e2e pytest tests/e2e "${E2E_APART[@]/#/--ignore=}" -p no:cacheprovider
else
  # Without root the lab tests skip; one process is enough for them.
  background e2e pytest tests/e2e -p no:cacheprovider
fi
background exporter pytest tests/exporter -p no:cacheprovider

failed=0
pytest --ignore=tests/e2e --ignore=tests/exporter || failed=1
for i in "${!names[@]}"; do
  wait "${pids[$i]}" || failed=1
  echo "--- ${names[$i]} ---"
  cat "$logs/${names[$i]}.log"
done
exit "$failed"
