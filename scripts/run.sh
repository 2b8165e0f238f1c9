#!/usr/bin/env bash
# `make run`: the whole SIGAP chain on this machine, no Docker, with the example inventory and the
# shipped configs: the lab network (as root; otherwise the same inventory on loopback addresses),
# the exporter, the webhook on SQLite, Prometheus and Alertmanager. Prints the URLs and how to
# cut a link; Ctrl-C stops everything it started (and removes the lab).
#
# State (SQLite database, Prometheus/Alertmanager data, tokens, logs) lives in .run/.
# Ports are the defaults the shipped configs point at: 9090 Prometheus, 9093 Alertmanager,
# 9427 exporter, 9428 webhook.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=$ROOT/.run
mkdir -p "$RUN"

bash scripts/setup.sh   # Debian packages (prometheus, prometheus-alertmanager, ...) and .venv
PY=$ROOT/.venv/bin/python
for cmd in prometheus prometheus-alertmanager; do
  command -v "$cmd" >/dev/null || { echo "run: $cmd is missing; run as root once: sudo make run" >&2; exit 1; }
done

for port in 9090 9093 9427 9428; do
  if "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
    echo "run: port $port is already in use (another SIGAP, or a packaged service?); stop it first" >&2
    exit 1
  fi
done

pids=()
lab_up=
stop() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$lab_up" ]; then "$PY" scripts/lab.py down; fi
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

# started NAME COMMAND...: runs it in the background, output in .run/NAME.log
started() {
  local name=$1; shift
  "$@" >"$RUN/$name.log" 2>&1 &
  pids+=($!)
}

# ready NAME URL: waits until URL answers 200, or shows the log and fails
ready() {
  local name=$1 url=$2
  for _ in $(seq 100); do
    if "$PY" -c "import urllib.request,sys; urllib.request.urlopen('$url', timeout=1)" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "run: $name did not become ready; the end of .run/$name.log:" >&2
  tail -20 "$RUN/$name.log" >&2
  exit 1
}

# Secrets made once and kept: the token Alertmanager sends, the webhook's key, an admin login.
[ -s "$RUN/alertmanager-token" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(32), end="")' >"$RUN/alertmanager-token"
[ -s "$RUN/secret-key" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(32), end="")' >"$RUN/secret-key"
[ -s "$RUN/admin-password" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(12), end="")' >"$RUN/admin-password"
chmod 600 "$RUN/alertmanager-token" "$RUN/secret-key" "$RUN/admin-password"

INVENTORY=$ROOT/deploy/inventory.example.yml
if [ "$(id -u)" = 0 ]; then
  "$PY" scripts/lab.py up
  lab_up=1
else
  # Without root there are no network namespaces: probe the same inventory on 127.18.k.x
  # (all of 127.0.0.0/8 answers on loopback), so everything runs but nothing can be cut.
  echo "run: not root, so no lab network; probing the example inventory on loopback (127.18.x.x)"
  INVENTORY=$RUN/inventory.loopback.yml
  sed 's/address: 198\.18\./address: 127.18./' deploy/inventory.example.yml >"$INVENTORY"
  read -r low high </proc/sys/net/ipv4/ping_group_range
  gid=$(id -g)
  if [ "$gid" -lt "$low" ] || [ "$gid" -gt "$high" ]; then
    echo "run: unprivileged ping is off here (net.ipv4.ping_group_range = $low $high), so the" \
      "exporter cannot probe; allow it with: sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'" >&2
  fi
fi

export SIGAP_DATABASE_URL="sqlite:///$RUN/sigap.db"
export SIGAP_ALERTMANAGER_TOKEN="$(cat "$RUN/alertmanager-token")"
export SIGAP_SECRET_KEY="$(cat "$RUN/secret-key")"
export SIGAP_ALERTMANAGER_URL=http://127.0.0.1:9093
export SIGAP_PROMETHEUS_URL=http://127.0.0.1:9090
export SIGAP_INVENTORY=$INVENTORY
WEBHOOK=$ROOT/.venv/bin/sigap-webhook
"$WEBHOOK" --log.level warning user add admin --role coordinator --password-stdin \
  <"$RUN/admin-password" >/dev/null
API_TOKEN=$("$WEBHOOK" --log.level warning token create admin | tail -1)

# The shipped Prometheus and Alertmanager configs name the docker-compose services (exporter:9427,
# webhook:9428, ...); here everything runs on 127.0.0.1, so only those hosts (and the token file's
# path, and the rule files' directory) are replaced. Everything else is as shipped.
"$PY" scripts/native_config.py prometheus --host 127.0.0.1 \
  --rules-relative-to deploy/prometheus >"$RUN/prometheus.yml"
"$PY" scripts/native_config.py alertmanager --host 127.0.0.1 \
  --token-file "$RUN/alertmanager-token" >"$RUN/alertmanager.yml"

started webhook "$WEBHOOK" --web.listen-address 127.0.0.1:9428
started exporter "$ROOT/.venv/bin/sigap-exporter" --config.file "$INVENTORY" --web.listen-address 127.0.0.1:9427
started alertmanager prometheus-alertmanager --config.file "$RUN/alertmanager.yml" \
  --storage.path "$RUN/alertmanager-data" --web.listen-address 127.0.0.1:9093 --cluster.listen-address=
started prometheus prometheus --config.file "$RUN/prometheus.yml" \
  --storage.tsdb.path "$RUN/prometheus-data" --web.listen-address 127.0.0.1:9090
ready webhook http://127.0.0.1:9428/-/ready
ready exporter http://127.0.0.1:9427/-/ready
ready alertmanager http://127.0.0.1:9093/-/ready
ready prometheus http://127.0.0.1:9090/-/ready

cat <<EOF

SIGAP is running (logs and data in .run/):
  webhook       http://127.0.0.1:9428/            login admin / $(cat "$RUN/admin-password")
  exporter      http://127.0.0.1:9427/            (node list; /metrics)
  prometheus    http://127.0.0.1:9090/alerts
  alertmanager  http://127.0.0.1:9093/
  incidents API curl -H 'Authorization: Bearer $API_TOKEN' http://127.0.0.1:9428/api/v1/incidents
EOF
if [ -n "$lab_up" ]; then
  cat <<EOF

Cut the Dinas Kesehatan uplink, and watch its incident open (~25 s):
  sudo .venv/bin/python scripts/lab.py cut uplink-dinkes; watch -n2 "curl -s -H 'Authorization: Bearer $API_TOKEN' 'http://127.0.0.1:9428/api/v1/incidents?skpd=dinkes'"
Undo with: sudo .venv/bin/python scripts/lab.py restore   (more: scripts/lab.py --help)
EOF
fi
echo
echo "Ctrl-C stops everything."
wait -n "${pids[@]}" || true
echo "run: a service stopped; see .run/*.log" >&2
exit 1
