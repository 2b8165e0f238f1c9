# One image for both SIGAP services, `sigap-exporter` and `sigap-webhook` (docker-compose.yml picks
# one per service with `command:`). Built from this checkout:  docker compose build
#
# Reproducible: every dependency comes from requirements/runtime.txt, the runtime part of the
# lock (scripts/lock.sh), each pinned and checked against its hash, wheels only (no compiler);
# SIGAP's own wheel is built by the locked setuptools (requirements/build.txt). Only the base
# image moves with its tag: `docker compose build --pull` takes Debian's and Python's fixes.
#
# Size (README, "Versions"): about 265 MB unpacked, about 75 MB to pull: python:3.11-slim
# ~125 MB, the locked wheels 134 MB installed with bytecode (29 MB to download), fonts 3 MB.
#
# Privileges: the image runs as the unprivileged user `sigap` (uid 10001). The webhook needs
# nothing more: its SOP step-2 ping check uses the kernel's datagram ICMP socket, which
# net.ipv4.ping_group_range allows (compose sets it). The exporter service alone runs as root in
# compose, with every capability dropped but NET_RAW, so that it gets the raw ICMP socket it was
# benchmarked with; a non-root process does not keep a cap_add capability across exec, and
# `setcap` on the shared python binary would hand NET_RAW to every Python program in the image.

# --- build: SIGAP's own wheel ---
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements/build.txt requirements/
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY exporter/ exporter/
COPY webhook/ webhook/
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

# --- run ---
FROM python:3.11-slim
# fonts-dejavu-core: the fonts of the F-04 PDF (webhook/core/pdf.py reads /usr/share/fonts/truetype/dejavu).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
# The dependencies first: this layer stays cached while only SIGAP's code changes.
COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary :all: -r /tmp/runtime.txt \
    && rm /tmp/runtime.txt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --no-deps --find-links /wheels sigap \
    && rm -rf /wheels \
    && pip check
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/sigap --create-home \
    --shell /usr/sbin/nologin sigap
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /var/lib/sigap
USER sigap
EXPOSE 9427 9428
# Ready on whichever of the two services this container runs (the webhook: its database answers;
# the exporter: an inventory is loaded). docker-compose.yml sets its own, per service, to the same.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-c", "import sys, urllib.request as u\nfor port in (9428, 9427):\n    try:\n        u.urlopen(f'http://127.0.0.1:{port}/-/ready', timeout=2)\n        sys.exit(0)\n    except OSError:\n        pass\nsys.exit(1)"]
CMD ["sigap-webhook", "--web.listen-address", ":9428"]
