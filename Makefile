.PHONY: run test lint bench lock audit
# Bring up the whole stack on this machine with the example inventory (see README).
run:
	bash scripts/run.sh
# Install what the tests need (Debian packages, .venv from requirements/lock.txt) and run them all.
test:
	bash scripts/test.sh
lint:
	.venv/bin/ruff check && .venv/bin/mypy
bench:
	.venv/bin/python benchmarks/bench_exporter.py && .venv/bin/python benchmarks/bench_webhook.py
# Re-make requirements/*.txt from pyproject.toml after a dependency changed; existing pins stay.
# `make lock UPGRADE=1` moves every pin to the newest release (then raise the floors to match).
lock:
	bash scripts/lock.sh
# The lock against the known vulnerabilities of PyPI's advisory feed (needs that service; not
# part of `make test`). VULNERABILITY_SERVICE=osv asks OSV instead.
VULNERABILITY_SERVICE ?= pypi
audit:
	.venv/bin/pip-audit --strict --require-hashes --disable-pip --progress-spinner off \
		--vulnerability-service $(VULNERABILITY_SERVICE) -r requirements/lock.txt
