"""Helpers that drive incidents through the real app: alerts with chosen times (so an outage's
length is known), a manual report, and the SOP's moves through the action API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.workflow.conftest import ALERTMANAGER_TOKEN, Service


def alert(
    skpd: str,
    node: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    responsibility: str = "diskominfo",
) -> dict[str, Any]:
    """One Alertmanager alert of `node`, resolved at `ends_at` when given."""
    return {
        "status": "resolved" if ends_at else "firing",
        "labels": {
            "alertname": "SigapUplinkDown",
            "skpd": skpd,
            "node": node,
            "responsibility": responsibility,
        },
        "annotations": {"summary": f"{node} of {skpd} is down"},
        "startsAt": starts_at.isoformat(),
        "endsAt": ends_at.isoformat() if ends_at else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.test/graph",
        "fingerprint": f"{skpd}-{node}",
    }


async def send(service: Service, skpd: str, *alerts: dict[str, Any]) -> None:
    """Post one Alertmanager notification of `skpd`'s group."""
    body = {
        "version": "4",
        "receiver": "sigap",
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "groupKey": f'{{}}:{{skpd="{skpd}"}}',
        "groupLabels": {"skpd": skpd},
        "commonLabels": {"skpd": skpd},
        "externalURL": "http://alertmanager.test",
        "alerts": list(alerts),
    }
    response = await service.client.post(
        "/api/v1/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    )
    assert response.status == 200, await response.text()


async def act(service: Service, who: str, incident: int, action: str, **data: Any) -> Any:
    response = await service.client.post(
        f"/api/v1/incidents/{incident}/actions/{action}",
        json=data,
        headers={"Authorization": f"Bearer {service.tokens[who]}"},
    )
    body = await response.json()
    assert response.status == 200, body
    return body


async def detail(service: Service, incident: int) -> dict[str, Any]:
    """The incident with its alerts and timeline, as the JSON API shows it."""
    response = await service.client.get(
        f"/api/v1/incidents/{incident}",
        headers={"Authorization": f"Bearer {service.tokens['koord']}"},
    )
    assert response.status == 200
    found: dict[str, Any] = await response.json()
    return found


async def open_report(service: Service, who: str, skpd: str, description: str) -> dict[str, Any]:
    """SOP step 1 by a person (the JSON API's manual report)."""
    response = await service.client.post(
        "/api/v1/incidents",
        json={"skpd": skpd, "description": description},
        headers={"Authorization": f"Bearer {service.tokens[who]}"},
    )
    assert response.status == 201, await response.text()
    found: dict[str, Any] = await response.json()
    return found


async def open_incident_of(service: Service, skpd: str) -> int:
    response = await service.client.get(
        f"/api/v1/incidents?skpd={skpd}&open=true",
        headers={"Authorization": f"Bearer {service.tokens['koord']}"},
    )
    (incident,) = (await response.json())["incidents"]
    return int(incident["id"])


F01 = {
    "reporter": "sari",
    "contact_confirmed_with": "budi",
    "complaint": "internet mati",
    "affected_service": "internet",
    "reported_at": "2026-11-24T08:00",
}


async def walk_to_repair(
    service: Service,
    incident: int,
    responsibility: str,
    estimated_recovery_at: datetime,
    repair_ended_at: datetime,
) -> None:
    """SOP steps 3 to 9: confirm, report, dispatch, estimate, forward, order, F-04."""
    await act(service, "sari", incident, "confirm", **F01)
    await act(service, "sari", incident, "report", responsibility=responsibility)
    await act(service, "koord", incident, "dispatch", assignee="sari")
    await act(
        service,
        "sari",
        incident,
        "estimate",
        findings="kabel putus",
        estimated_recovery_at=estimated_recovery_at.isoformat(),
    )
    await act(service, "koord", incident, "forward")
    await act(service, "koord", incident, "order_repair")
    await act(
        service,
        "sari",
        incident,
        "repair",
        findings="kabel putus",
        actions_taken="sambung ulang",
        repair_started_at=(repair_ended_at - timedelta(minutes=30)).isoformat(),
        repair_ended_at=repair_ended_at.isoformat(),
        result="pulih",
    )


def first_entries(events: list[dict[str, Any]], opened_at: str) -> dict[str, float]:
    """Seconds from opening to the first move into each timed stage, read off the timeline."""
    stages = {
        "confirmed": "confirm",
        "dispatched": "dispatch",
        "estimated": "estimate",
        "repaired": "repair",
        "closed": "close",
    }
    start = datetime.fromisoformat(opened_at)
    found: dict[str, float] = {}
    for event in events:
        stage = stages.get(event["to"])
        if stage and event["from"] != event["to"] and stage not in found:
            found[stage] = (datetime.fromisoformat(event["at"]) - start).total_seconds()
    return found
