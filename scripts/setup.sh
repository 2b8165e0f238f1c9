#!/usr/bin/env bash
# Install what SIGAP's run and test commands need on a fresh Debian 12 machine, when missing:
# Debian packages (only as root; otherwise say what is missing) and a virtualenv in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  iproute2 iputils-ping procps
  prometheus prometheus-alertmanager
  postgresql
  chromium fonts-dejavu-core
)
# Some packages install no command of the same name; check by dpkg status instead.
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi
# Debian starts services on install where it can; SIGAP starts its own instances.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
  pkill -x -u prometheus "${svc}" 2>/dev/null || true
done

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.sigap-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
