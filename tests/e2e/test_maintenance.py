"""End to end, for real: a maintenance window planned through SIGAP's API silences the SKPD in
the real Alertmanager, so a cut inside it opens nothing; once the window is shortened to its
end, the same (still cut) link opens one incident, marked planned (its outage began inside the
window). The real exporter, Prometheus (shipped rules) and Alertmanager (shipped config), the
webhook reading that Alertmanager (SIGAP_ALERTMANAGER_URL), the lab's namespaces.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e import harness
from tests.e2e.harness import Stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.root]

SKPD, LINK = "dinkes", "uplink-dinkes"
QUIET = 20.0
"""After Prometheus fires inside the window: group_wait (2 s) + sending, many times over."""


@pytest.fixture(scope="module")
def stack(lab: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The usual stack, its webhook restarted on the same address to know the Alertmanager
    (which is started after the webhook, so its URL is known only then)."""
    missing = harness.missing_binaries()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (bash scripts/setup.sh)")
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        running.start()
        old = running.webhook
        old.stop()
        argv = [harness.which(harness.WEBHOOK) or harness.WEBHOOK]
        argv.append(f"--web.listen-address={old.address}")
        env = harness.webhook_env(
            running.workdir,
            running.token,
            SIGAP_ALERTMANAGER_URL=running.alertmanager.url,
            SIGAP_PING_CHECK="false",
        )
        running.webhook = harness.start(
            "webhook2", argv, workdir=running.workdir, url=old.url, env=env
        )
        running.services.append(running.webhook)
        yield running
    finally:
        running.stop()


def _call(stack: Stack, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{stack.webhook.url}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {stack.api_token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _firing_in_prometheus(stack: Stack) -> list[Any]:
    query = f'ALERTS{{alertstate="firing", skpd="{SKPD}"}}'
    url = f"{stack.prometheus.url}/api/v1/query?query={urllib.parse.quote(query)}"
    return list(_get(url)["data"]["result"])


def _incidents(stack: Stack) -> list[dict[str, Any]]:
    return list(_call(stack, "GET", f"/api/v1/incidents?skpd={SKPD}")["incidents"])


def test_a_cut_inside_a_window_opens_nothing_and_after_it_one_planned_incident(
    lab: Any, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus = f"{stack.prometheus.url}/api/v1/query?query="
    wait_for(
        "every node up in Prometheus",
        lambda: (
            _get(prometheus + urllib.parse.quote("count(sigap_node_up == 0) or vector(0)"))["data"][
                "result"
            ][0]["value"][1]
            == "0"
            and _get(prometheus + "count(sigap_node_up)")["data"]["result"]
        ),
        timeout=60,
    )
    now = datetime.now(UTC)
    plan = _call(
        stack,
        "POST",
        "/api/v1/maintenance",
        {
            "skpd": SKPD,
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(minutes=10)).isoformat(),
            "reason": "e2e: penggantian kabel fiber optik",
        },
    )
    assert plan["sync_state"] == "synced", plan
    silence = plan["silence_ids"][stack.alertmanager.url]

    started = time.monotonic()
    lab.cut(LINK)
    try:
        wait_for("Prometheus firing for the cut", lambda: _firing_in_prometheus(stack), 60)
        fired = time.monotonic() - started
        held = wait_for(
            "Alertmanager holding the silenced alert",
            lambda: [
                a
                for a in _get(f"{stack.alertmanager.url}/api/v2/alerts?silenced=true")
                if a["labels"].get("skpd") == SKPD
            ],
            20,
        )
        assert all(a["status"]["silencedBy"] == [silence] for a in held), held
        time.sleep(QUIET)
        assert _incidents(stack) == [], "a cut inside the window opened an incident"

        # the work ends early: the window is shortened to end in 2 s; the cut remains
        end = datetime.now(UTC) + timedelta(seconds=2)
        changed = _call(
            stack, "PATCH", f"/api/v1/maintenance/{plan['id']}", {"ends_at": end.isoformat()}
        )
        assert changed["sync_state"] == "synced", changed
        shortened = time.monotonic()
        opened = wait_for("an incident after the window", lambda: _incidents(stack), 60)
        after = time.monotonic() - shortened
        time.sleep(3)
        incidents = _incidents(stack)
        assert len(incidents) == 1, incidents
        assert incidents[0]["planned"] is True  # its outage began inside the window
        assert opened[0]["id"] == incidents[0]["id"]
    finally:
        lab.restore(LINK)
    with capsys.disabled():
        print(
            f"\nmaintenance e2e: cut -> Prometheus firing {fired:.1f} s (silenced, no incident "
            f"for {QUIET:.0f} s more); window shortened -> incident {after:.1f} s"
        )
