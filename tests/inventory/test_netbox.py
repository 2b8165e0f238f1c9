"""`inventory import --from-netbox`: devices read from a stand-in NetBox by the real client."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from exporter import cli
from exporter.inventory import CORE, load_inventory
from tests.inventory.netbox_standin import TOKEN, TOKEN_V2, NetBox, device
from tests.inventory.sheets import EXAMPLE

Serve = Callable[[web.Application], Awaitable[TestServer]]

DINKES = ("Dinas Kesehatan", "dinkes")


def network() -> list[dict[str, Any]]:
    diskominfo = {"sigap_owner": "diskominfo"}
    return [
        device(
            1,
            "CORE-RTR-01",
            "198.18.0.1",
            "core",
            description="Router inti",
            custom_fields={"sigap_skpd": "core", **diskominfo},
        ),
        device(
            2,
            "UPLINK-DINKES",
            "198.18.5.1",
            "uplink",
            tenant=DINKES,
            custom_fields={"sigap_parent": "core-rtr-01", **diskominfo},
        ),
        device(
            3,
            "GW-DINKES",
            "198.18.5.2",
            "gateway",
            tenant=DINKES,
            description="Router gateway Diskominfo di DINKES",
            custom_fields={"sigap_parent": "uplink-dinkes", **diskominfo},
        ),
        device(
            4,
            "SW-DINKES-1",
            "198.18.5.11",
            "access-switch",
            tenant=DINKES,
            custom_fields={
                "sigap_parent": "gw-dinkes",
                "sigap_owner": "skpd",
                "sigap_role": "switch",
            },
        ),
        device(
            5,
            "AP-DINKES-1",
            "198.18.5.31",
            "access-point",
            tenant=DINKES,
            custom_fields={"sigap_parent": "sw-dinkes-1", "sigap_owner": "skpd"},
        ),
        device(
            6,
            "AP-DINKES-9",
            "198.18.5.39",
            "access-point",
            tenant=DINKES,
            status="planned",
            custom_fields={"sigap_parent": "sw-dinkes-1", "sigap_owner": "skpd"},
        ),
    ]


async def import_from(
    server: TestServer, output: Path, *extra: str, token: str | None = TOKEN
) -> int:
    argv = [
        "inventory",
        "import",
        "--from-netbox",
        str(server.make_url("/")),
        "--output",
        str(output),
        *extra,
    ]
    if token is not None:
        argv += ["--token", token]
    return await asyncio.to_thread(cli.main, argv)


async def test_devices_page_by_page_become_the_inventory(
    aiohttp_server: Serve, tmp_path: Path
) -> None:
    netbox = NetBox(network())
    server = await aiohttp_server(netbox.app())
    out = tmp_path / "inventory.yml"
    assert await import_from(server, out) == 0
    inventory = load_inventory(out, resolve=None)
    assert [n.id for n in inventory.nodes.values()] == [
        "core-rtr-01",
        "uplink-dinkes",
        "gw-dinkes",
        "sw-dinkes-1",
        "ap-dinkes-1",
    ]  # the planned access point is not there yet
    assert inventory.skpds["dinkes"].name == "Dinas Kesehatan"
    assert inventory.nodes["core-rtr-01"].skpd == CORE
    assert inventory.core_name == "Diskominfo (core)"  # not the name of the router's site
    gw = inventory.nodes["gw-dinkes"]
    assert (gw.address, gw.role, gw.owner, gw.parent) == (
        "198.18.5.2",
        "gateway",
        "diskominfo",
        "uplink-dinkes",
    )
    assert gw.name == "Router gateway Diskominfo di DINKES"
    assert inventory.nodes["ap-dinkes-1"].role == "access_point"  # the role's slug
    assert inventory.nodes["sw-dinkes-1"].role == "switch"  # the custom field wins
    # three pages of two, each with the token
    assert len(netbox.requests) == 3
    assert all(auth == f"Token {TOKEN}" for _, auth in netbox.requests)
    assert netbox.requests[1][0] == "/api/dcim/devices/?limit=2&offset=2"


async def test_over_the_running_inventory_ids_and_the_rest_are_kept(
    aiohttp_server: Serve, tmp_path: Path
) -> None:
    current = tmp_path / "inventory.yml"
    shutil.copy(EXAMPLE, current)
    devices = [
        device(
            3,
            "GW-DKS-01",
            "198.18.5.2",
            "gateway",
            tenant=DINKES,
            custom_fields={"sigap_parent": "uplink-dinkes", "sigap_owner": "diskominfo"},
        ),
        device(
            2,
            "UPLINK-DKS",
            "198.18.5.1",
            "uplink",
            tenant=DINKES,
            custom_fields={"sigap_parent": "dist-batulicin", "sigap_owner": "diskominfo"},
        ),
    ]
    server = await aiohttp_server(NetBox(devices).app())
    assert await import_from(server, current) == 0
    after, before = load_inventory(current, resolve=None), load_inventory(EXAMPLE, resolve=None)
    # found by address: the running ids stay, whatever NetBox calls the devices
    assert after.skpds["dinkes"].node_ids == ("gw-dinkes", "uplink-dinkes")
    assert after.nodes["gw-dinkes"].name == "GW-DKS-01"
    # what NetBox does not hold (contacts, location) and the other SKPDs stay
    assert after.skpds["dinkes"].contacts == before.skpds["dinkes"].contacts
    assert after.skpds["dinkes"].location == before.skpds["dinkes"].location
    assert after.skpds["rsud"] == before.skpds["rsud"]
    assert after.core_name == before.core_name
    assert "# SIGAP example inventory" in current.read_text()


async def test_a_refused_token_says_so_and_writes_nothing(
    aiohttp_server: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = await aiohttp_server(NetBox(network()).app())
    out = tmp_path / "inventory.yml"
    assert await import_from(server, out, token="wrong") == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert "the token was refused (HTTP 403: Invalid token)" in err
    assert "SIGAP_NETBOX_TOKEN" in err


async def test_the_token_from_a_file_named_by_the_environment(
    aiohttp_server: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "netbox-token"
    secret.write_text(TOKEN + "\n")
    monkeypatch.setenv("SIGAP_NETBOX_TOKEN_FILE", str(secret))
    netbox = NetBox(network())
    server = await aiohttp_server(netbox.app())
    assert await import_from(server, tmp_path / "inventory.yml", token=None) == 0
    assert netbox.requests[0][1] == f"Token {TOKEN}"


async def test_devices_that_cannot_be_imported_are_named(
    aiohttp_server: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    devices = network()
    devices[2] = device(
        3,
        "GW-DINKES",
        None,
        "gateway",
        tenant=DINKES,
        custom_fields={"sigap_parent": "uplink-dinkes", "sigap_owner": "diskominfo"},
    )
    devices[3]["custom_fields"]["sigap_owner"] = None
    devices[4]["custom_fields"]["sigap_parent"] = "sw-dinks-1"
    server = await aiohttp_server(NetBox(devices).app())
    assert await import_from(server, tmp_path / "inventory.yml") == 1
    err = capsys.readouterr().err
    where = f"NetBox {server.make_url('/')}"
    assert f"{where}, device 3 'GW-DINKES', column primary_ip: is required but missing" in err
    assert (
        f"{where}, device 4 'SW-DINKES-1', column custom_fields.sigap_owner: is required but "
        "missing" in err
    )
    assert (
        f"{where}, device 5 'AP-DINKES-1', column custom_fields.sigap_parent: unknown node "
        "'sw-dinks-1'" in err
    )
    assert "(did you mean 'sw-dinkes-1'?)" in err


async def test_an_address_that_is_not_netbox(
    aiohttp_server: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = web.Application()
    app.router.add_get("/api/dcim/devices/", lambda _: web.Response(text="<html>login</html>"))
    server = await aiohttp_server(app)
    assert await import_from(server, tmp_path / "inventory.yml") == 1
    assert "did not answer JSON; expected NetBox's API" in capsys.readouterr().err


async def test_a_v2_token_is_sent_as_bearer(aiohttp_server: Serve, tmp_path: Path) -> None:
    netbox = NetBox(network())
    server = await aiohttp_server(netbox.app())
    assert await import_from(server, tmp_path / "inventory.yml", token=TOKEN_V2) == 0
    assert netbox.requests[0][1] == f"Bearer {TOKEN_V2}"
