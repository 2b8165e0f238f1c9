"""A stand-in NetBox (aiohttp, 127.0.0.1, port 0): the import's real aiohttp client is pointed at
it as at a NetBox server.

It speaks NetBox's documented REST API for ``GET /api/dcim/devices/``
(https://netboxlabs.com/docs/netbox/en/stable/integrations/rest-api/): ``Authorization: Token
<key>``, or ``Bearer nbt_<key>.<secret>`` for NetBox 4.5's v2 tokens (anything else: 403
``{"detail": "Invalid token"}``, as NetBox answers), ``limit`` and ``offset`` with pages capped
at ``max_page_size`` (NetBox's MAX_PAGE_SIZE), and the paginated envelope ``{"count", "next",
"previous", "results"}`` whose ``next`` is an absolute URL. Devices are NetBox 4's JSON: nested
``role``, ``tenant``, ``site`` (id, url, display, name, slug), ``status`` {value, label},
``primary_ip`` {id, url, display, family, address "a.b.c.d/nn"}, ``custom_fields`` and ``tags``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "0123456789abcdef0123456789abcdef01234567"
"""A v1 token, sent as ``Token <key>``."""
TOKEN_V2 = "nbt_k3y4bcd3f9h1.s3cr3t0123456789abcdef0123456789abcdef"
"""A v2 token (NetBox 4.5), sent as ``Bearer nbt_<key>.<secret>``."""


def nested(kind: str, pk: int, name: str, slug: str) -> dict[str, Any]:
    return {
        "id": pk,
        "url": f"http://netbox.invalid/api/{kind}/{pk}/",
        "display": name,
        "name": name,
        "slug": slug,
    }


def device(
    pk: int,
    name: str,
    address: str | None,
    role: str,
    *,
    tenant: tuple[str, str] | None = None,
    site: tuple[str, str] = ("Batulicin", "batulicin"),
    status: str = "active",
    description: str = "",
    custom_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One device as NetBox 4 serializes it in a list."""
    ip = (
        {
            "id": pk + 1000,
            "url": f"http://netbox.invalid/api/ipam/ip-addresses/{pk + 1000}/",
            "display": f"{address}/24",
            "family": {"value": 4, "label": "IPv4"},
            "address": f"{address}/24",
        }
        if address
        else None
    )
    return {
        "id": pk,
        "url": f"http://netbox.invalid/api/dcim/devices/{pk}/",
        "display": name,
        "name": name,
        "device_type": {"id": 1, "display": "RB4011", "model": "RB4011", "slug": "rb4011"},
        "role": nested("dcim/device-roles", 10 + len(role), role.title(), role),
        "tenant": nested("tenancy/tenants", 7, *tenant) if tenant else None,
        "platform": None,
        "serial": "",
        "site": nested("dcim/sites", 3, *site),
        "location": None,
        "rack": None,
        "status": {"value": status, "label": status.title()},
        "primary_ip": ip,
        "primary_ip4": ip,
        "primary_ip6": None,
        "description": description,
        "comments": "",
        "tags": [],
        "custom_fields": {
            "sigap_id": None,
            "sigap_skpd": None,
            "sigap_owner": None,
            "sigap_parent": None,
            "sigap_role": None,
            **(custom_fields or {}),
        },
        "created": "2026-11-02T03:04:05.000000Z",
        "last_updated": "2026-11-02T03:04:05.000000Z",
    }


@dataclass
class NetBox:
    devices: list[dict[str, Any]]
    max_page_size: int = 2
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(path with query, Authorization header) of every request."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/dcim/devices/", self.list_devices)
        return app

    async def list_devices(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        self.requests.append((request.path_qs, auth))
        if auth not in (f"Token {TOKEN}", f"Bearer {TOKEN_V2}"):
            return web.json_response({"detail": "Invalid token"}, status=403)
        limit = min(int(request.query.get("limit", 50)), self.max_page_size)
        offset = int(request.query.get("offset", 0))
        page = self.devices[offset : offset + limit]
        base = str(request.url.with_query(None))

        def link(at: int) -> str:
            return f"{base}?limit={limit}&offset={at}"

        return web.json_response(
            {
                "count": len(self.devices),
                "next": link(offset + limit) if offset + limit < len(self.devices) else None,
                "previous": link(max(0, offset - limit)) if offset else None,
                "results": page,
            }
        )
