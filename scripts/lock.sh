#!/usr/bin/env bash
# Make SIGAP's lock from pyproject.toml (`make lock`; `make lock UPGRADE=1` moves every pin to
# the newest release the floors allow). One resolution, three views of it, all with hashes and
# installable with plain pip --require-hashes:
#   requirements/lock.txt     everything: runtime, test and dev (scripts/setup.sh, CI)
#   requirements/runtime.txt  the runtime part of the same resolution (the Dockerfile)
#   requirements/build.txt    the build backend pyproject.toml names (the Dockerfile's build stage)
# uv (pinned in the `dev` extra, so installed by setup.sh from this very lock) resolves for
# CPython 3.11 on every platform (--universal), so the image builds on arm64 too.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
common=(--quiet --universal --python-version 3.11 --generate-hashes --no-config
  --custom-compile-command "make lock")
upgrade=()
[ -n "${UPGRADE:-}" ] && upgrade=(--upgrade)

"$UV" pip compile "${common[@]}" "${upgrade[@]}" --all-extras pyproject.toml -o requirements/lock.txt
# The subsets are constrained to the full lock: the same versions, never a second resolution.
"$UV" pip compile "${common[@]}" -c requirements/lock.txt pyproject.toml -o requirements/runtime.txt
.venv/bin/python - <<'PY' | "$UV" pip compile "${common[@]}" -c requirements/lock.txt - -o requirements/build.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))
PY
echo "lock: requirements/{lock,runtime,build}.txt"
