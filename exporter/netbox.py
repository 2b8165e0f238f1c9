"""Devices from NetBox's REST API as the rows of an import (`inventory import --from-netbox`).

The mapping (README, "Bringing a network in"): each active device of ``/api/dcim/devices/`` is a
node. Its SKPD is the custom field ``sigap_skpd``, else its tenant, else its site (slug as the
code, name as the SKPD's name); its address the primary IP; its role the custom field
``sigap_role``, else the device role's slug; its owner and parent the custom fields
``sigap_owner`` and ``sigap_parent``; its id the custom field ``sigap_id``, else that of the
existing node at its address, else the device name made an id; its name the description, else
the device name. Contacts, office hours and locations are not NetBox's: they stay as the
existing inventory has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from exporter.inventory import CORE
from exporter.sheet import Record, SheetError, Table, Where, slug

PAGE_SIZE = 1000
MAX_PAGES = 10_000
"""A `next` that never ends is a broken server, not a bigger network."""
FIELDS = frozenset({"skpd", "skpd_name", "id", "name", "address", "role", "owner", "parent"})
HEADERS = {
    "skpd": "custom_fields.sigap_skpd / tenant / site",
    "skpd_name": "tenant / site name",
    "id": "custom_fields.sigap_id / name",
    "name": "description / name",
    "address": "primary_ip",
    "role": "custom_fields.sigap_role / role",
    "owner": "custom_fields.sigap_owner",
    "parent": "custom_fields.sigap_parent",
}


def _slug_of(value: Any) -> str:
    return (
        str(value.get("slug") or slug(str(value.get("name") or "")))
        if isinstance(value, dict)
        else ""
    )


def _text(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


def device_record(device: Mapping[str, Any], source: str) -> Record | None:
    """The row of one device (None for one that is not active: planned, offline, ...)."""
    status = device.get("status")
    status_value = status.get("value") if isinstance(status, dict) else status
    if status_value not in (None, "active"):
        return None
    fields = device.get("custom_fields") or {}
    owner_of = device.get("tenant") or device.get("site")
    role = device.get("role") or device.get("device_role")  # device_role before NetBox 3.6
    primary = device.get("primary_ip") or device.get("primary_ip4") or device.get("primary_ip6")
    address = _text(primary.get("address")).split("/")[0] if isinstance(primary, dict) else ""
    name = _text(device.get("name"))
    cells: dict[str, str] = {
        "skpd": _text(fields.get("sigap_skpd")) or _slug_of(owner_of),
        "skpd_name": _text(owner_of.get("name")) if isinstance(owner_of, dict) else "",
    }
    if cells["skpd"].casefold() == CORE:
        cells["skpd_name"] = ""  # the core's name is the inventory's, not a site's
    cells |= {
        "id": _text(fields.get("sigap_id")),
        "name": _text(device.get("description")) or name,
        "address": address,
        "role": _text(fields.get("sigap_role")) or _slug_of(role),
        "owner": _text(fields.get("sigap_owner")),
        "parent": _text(fields.get("sigap_parent")),
    }
    where = Where(source, f"device {device.get('id')} {name or device.get('display')!r}")
    return Record(where, {k: v for k, v in cells.items() if v}, HEADERS, id_hint=slug(name))


def _api_root(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith("/api") else f"{base}/api"


async def fetch_table(url: str, token: str, *, seconds: float = 60.0) -> Table:
    """Every device NetBox lists, page by page (`next`), as a table. Raises SheetError naming
    the URL and what to do when NetBox cannot be read."""
    source = f"NetBox {url}"
    page: str | None = f"{_api_root(url)}/dcim/devices/?limit={PAGE_SIZE}"
    # NetBox 4.5's v2 tokens (nbt_<key>.<secret>) are bearer tokens; the older ones "Token"
    scheme = "Bearer" if token.startswith("nbt_") else "Token"
    headers = {"Authorization": f"{scheme} {token}", "Accept": "application/json"}
    records: list[Record] = []
    async with aiohttp.ClientSession(
        headers=headers, timeout=aiohttp.ClientTimeout(total=seconds)
    ) as session:
        for _ in range(MAX_PAGES):
            if page is None:
                break
            data = await _get(session, page, source)
            results = data.get("results")
            if not isinstance(results, list):
                raise SheetError(
                    [
                        f"{source}: {page} answered without a 'results' list; expected NetBox's "
                        "paginated JSON (is the URL NetBox's?)"
                    ]
                )
            for device in results:
                if isinstance(device, dict):
                    record = device_record(device, source)
                    if record is not None:
                        records.append(record)
            page = data.get("next") or None
        else:
            raise SheetError([f"{source}: more than {MAX_PAGES} pages; expected an end of 'next'"])
    return Table(source, tuple(records), FIELDS)


async def _get(session: aiohttp.ClientSession, url: str, source: str) -> dict[str, Any]:
    try:
        async with session.get(url) as response:
            if response.status in (401, 403):
                detail = await _detail(response)
                raise SheetError(
                    [
                        f"{source}: the token was refused (HTTP {response.status}: {detail}); "
                        "expected a NetBox API token that may read dcim devices (--token, "
                        "SIGAP_NETBOX_TOKEN or SIGAP_NETBOX_TOKEN_FILE)"
                    ]
                )
            if response.status != 200:
                detail = await _detail(response)
                raise SheetError(
                    [
                        f"{source}: {url} answered HTTP {response.status} ({detail}); expected 200 "
                        "(check the URL: NetBox's address, e.g. https://netbox.example.go.id)"
                    ]
                )
            data = await response.json(content_type=None)
    except aiohttp.ClientError as exc:
        raise SheetError([f"{source}: cannot reach it ({exc}); expected NetBox's address"]) from exc
    except ValueError as exc:
        raise SheetError([f"{source}: {url} did not answer JSON; expected NetBox's API"]) from exc
    except TimeoutError as exc:
        raise SheetError([f"{source}: no answer in time; expected NetBox to answer"]) from exc
    if not isinstance(data, dict):
        raise SheetError([f"{source}: {url} answered {type(data).__name__}; expected an object"])
    return data


async def _detail(response: aiohttp.ClientResponse) -> str:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return response.reason or "no detail"
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    return response.reason or "no detail"
