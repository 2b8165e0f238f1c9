#!/usr/bin/env bash
# Install what SIGAP's run and test commands need on a fresh Debian 12 machine, when missing:
# Debian packages (only as root; otherwise say what is missing) and a virtualenv in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  iproute2 iputils-ping procps
  prometheus prometheus-alertmanager
  postgresql
  chromium fonts-dejavu-core poppler-utils
)
# Some packages install no command of the same name; check by dpkg status instead.
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# npm fetches the Compose schema below; any npm will do (Debian's only when there is none).
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # SIGAP starts its own instances; keep Debian from starting the packaged services.
    policy=/usr/sbin/policy-rc.d
    own_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
      trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$own_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  else
    echo "setup: missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Exactly the lock (scripts/lock.sh, `make lock`): every package pinned and checked against its
# hash, pip and the build backend included; then SIGAP itself, editable, built by the locked
# setuptools. Nothing is resolved here, so every machine gets the same environment.
stamp=.venv/.sigap-installed
if [ ! -f "$stamp" ] || [ requirements/lock.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements/lock.txt
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  touch "$stamp"
fi

# The Compose Specification JSON schema, for tests/deploy/test_compose.py. No PyPI or Debian
# package ships it; the npm package dclint (docker-compose-linter, MIT) ships the schema of
# compose-spec/compose-spec as schemas/compose.schema.json and keeps it current. Pinned here;
# `npm pack` checks the tarball against the registry's integrity hash.
COMPOSE_SCHEMA_PACKAGE=dclint@3.1.0
schema_dir=.venv/share/compose-spec
if [ "$(cat "$schema_dir/SOURCE" 2>/dev/null)" != "$COMPOSE_SCHEMA_PACKAGE" ]; then
  if command -v npm >/dev/null; then
    tmp=$(mktemp -d)
    # Not fatal (make run does not need it); the compose test then says what is missing.
    if (cd "$tmp" && npm pack --silent "$COMPOSE_SCHEMA_PACKAGE" >/dev/null \
      && tar -xzf ./*.tgz package/schemas/compose.schema.json package/LICENSE); then
      mkdir -p "$schema_dir"
      cp "$tmp/package/schemas/compose.schema.json" "$schema_dir/compose-spec.json"
      cp "$tmp/package/LICENSE" "$schema_dir/LICENSE"
      echo "$COMPOSE_SCHEMA_PACKAGE" >"$schema_dir/SOURCE"
    else
      echo "setup: could not fetch $COMPOSE_SCHEMA_PACKAGE from npm (the Compose schema)" >&2
    fi
    rm -rf "$tmp"
  else
    echo "setup: npm is missing, so the Compose schema is too (run as root once to install npm)" >&2
  fi
fi
