# One image for both SIGAP services, `sigap-exporter` and `sigap-webhook` (docker-compose.yml picks
# one per service with `command:`). Built from this checkout:  docker compose build
#
# Privileges: the image runs as the unprivileged user `sigap` (uid 10001). The webhook needs
# nothing more: its SOP step-2 ping check uses the kernel's datagram ICMP socket, which
# net.ipv4.ping_group_range allows (compose sets it). The exporter service alone runs as root in
# compose, with every capability dropped but NET_RAW, so that it gets the raw ICMP socket it was
# benchmarked with; a non-root process does not keep a cap_add capability across exec, and
# `setcap` on the shared python binary would hand NET_RAW to every Python program in the image.

# --- build: wheels of SIGAP and of every dependency (no compiler needed in the final image) ---
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter/ exporter/
COPY webhook/ webhook/
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- run ---
FROM python:3.11-slim
# fonts-dejavu-core: the fonts of the F-04 PDF (webhook/core/pdf.py reads /usr/share/fonts/truetype/dejavu).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels sigap \
    && rm -rf /wheels
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/sigap --create-home \
    --shell /usr/sbin/nologin sigap
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /var/lib/sigap
USER sigap
EXPOSE 9427 9428
CMD ["sigap-webhook", "--web.listen-address", ":9428"]
