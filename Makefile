.PHONY: run test lint bench
# Bring up the whole stack on this machine with the example inventory (see README).
run:
	bash scripts/run.sh
# Install what the tests need (Debian packages, .venv) and run them all.
test:
	bash scripts/test.sh
lint:
	.venv/bin/ruff check && .venv/bin/mypy
bench:
	.venv/bin/python benchmarks/bench_exporter.py && .venv/bin/python benchmarks/bench_webhook.py
