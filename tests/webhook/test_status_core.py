"""The status page's pure parts and settings: an SKPD's condition from node, incident and
maintenance facts; the stage in plain words with its estimate; the day bars; the settings that
turn the page off or keep it inside the intranet, with errors that name their source."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from exporter.inventory import InventoryError, load_inventory, parse_inventory
from webhook.core.status import (
    Condition,
    Day,
    OpenIncident,
    PublicNode,
    PublicSkpd,
    bars_svg,
    condition_of,
    offices_svg,
    public_nodes,
    stage_text,
    topology_svg,
)
from webhook.settings import SettingsError, load_settings

INVENTORY = load_inventory(
    Path(__file__).resolve().parents[2] / "deploy" / "inventory.example.yml", resolve=None
)
TUESDAY_NOON = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12.00 WITA
TUESDAY_NIGHT = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 22.00 WITA
ALL_UP = {n: True for n in INVENTORY.nodes}


def test_the_side_of_the_fault_decides_the_condition() -> None:
    def of(skpd: str, *down: str, at: datetime = TUESDAY_NOON, planned: bool = False) -> str:
        up = {**ALL_UP, **dict.fromkeys(down, False)}
        return condition_of(INVENTORY, skpd, up, None, planned, at)

    assert of("dinkes") == Condition.NORMAL
    assert of("dinkes", "gw-dinkes") == Condition.DOWN_DISKOMINFO
    assert of("dinkes", "dist-batulicin") == Condition.DOWN_DISKOMINFO  # upstream of it
    assert of("bappeda", "dist-batulicin") == Condition.NORMAL  # another branch
    assert of("dinkes", "ap-dinkes-1") == Condition.DEGRADED
    own = [n.id for n in INVENTORY.nodes_of("dinkes") if n.owner == "skpd"]
    assert of("dinkes", *own) == Condition.DOWN_SKPD
    setda_own = [n.id for n in INVENTORY.nodes_of("setda") if n.owner == "skpd"]
    assert of("setda", *setda_own) == Condition.DOWN_SKPD
    assert of("setda", *setda_own, at=TUESDAY_NIGHT) == Condition.AFTER_HOURS
    assert of("setda", at=TUESDAY_NIGHT) == Condition.NORMAL
    assert of("setda", "gw-setda", at=TUESDAY_NIGHT) == Condition.DOWN_DISKOMINFO
    assert of("dinkes", "gw-dinkes", planned=True) == Condition.MAINTENANCE


def test_a_lost_path_of_a_redundant_skpd_is_degraded_and_both_lost_is_diskominfos() -> None:
    def of(*down: str) -> str:
        up = {**ALL_UP, **dict.fromkeys(down, False)}
        return condition_of(INVENTORY, "rsud", up, None, False, TUESDAY_NOON)

    assert of() == Condition.NORMAL
    assert of("uplink-rsud") == Condition.DEGRADED  # the radio link carries the gateway
    assert of("radio-rsud") == Condition.DEGRADED
    assert of("dist-simpangempat") == Condition.DEGRADED  # the radio's BTS: the fibre is left
    assert of("uplink-rsud", "radio-rsud", "gw-rsud") == Condition.DOWN_DISKOMINFO
    assert of("dist-batulicin", "dist-simpangempat") == Condition.DOWN_DISKOMINFO
    assert of("uplink-rsud", "gw-rsud") == Condition.DOWN_DISKOMINFO  # the gateway itself
    # another SKPD behind the radio's BTS is cut off all the same
    up = {**ALL_UP, "dist-simpangempat": False}
    assert condition_of(INVENTORY, "kec-kusanhilir", up, None, False, TUESDAY_NOON) == (
        Condition.DOWN_DISKOMINFO
    )


def edges(svg: str) -> dict[str, str]:
    """`parent child` -> the edge's stroke colour, dashed edges marked with a trailing `-`."""
    found = {}
    for line in re.findall(r"<path [^>]*data-edge[^>]*>", svg):
        edge = re.search(r'data-edge="([^"]+)"', line)
        stroke = re.search(r'stroke="([^"]+)"', line)
        assert edge and stroke
        found[edge.group(1)] = stroke.group(1) + ("-" if "stroke-dasharray" in line else "")
    return found


def test_the_map_draws_both_paths_of_a_redundant_node_and_reddens_only_the_lost_one() -> None:
    grey, red = "#90a4ae", "#c62828"
    drawn = edges(topology_svg(public_nodes(INVENTORY, ALL_UP)))
    assert drawn["uplink-rsud gw-rsud"] == grey
    assert drawn["radio-rsud gw-rsud"] == grey + "-"  # the second path, dashed
    assert drawn["dist-simpangempat radio-rsud"] == grey
    svg = topology_svg(public_nodes(INVENTORY, {**ALL_UP, "uplink-rsud": False}))
    drawn = edges(svg)
    assert drawn["uplink-rsud gw-rsud"] == red and drawn["radio-rsud gw-rsud"] == grey + "-"
    assert drawn["dist-batulicin uplink-rsud"] == red
    assert re.search(r'data-node="gw-rsud"><circle [^>]*fill="#2e7d32"', svg)  # still up
    both = {**ALL_UP, "uplink-rsud": False, "radio-rsud": False, "gw-rsud": False}
    svg = topology_svg(public_nodes(INVENTORY, both))
    assert edges(svg)["radio-rsud gw-rsud"] == red + "-"
    # both paths lost: the links are the failures (red), the gateway behind them pale red
    assert re.search(r'data-node="radio-rsud"><circle [^>]*fill="#c62828"', svg)
    assert re.search(r'data-node="gw-rsud"><circle [^>]*fill="#ef9a9a"', svg)


def test_a_reported_problem_with_every_node_up_is_degraded_until_repaired() -> None:
    reported = OpenIncident("confirmed", "skpd", None)
    assert condition_of(INVENTORY, "dinkes", ALL_UP, reported, False, TUESDAY_NOON) == "degraded"
    repaired = OpenIncident("repaired", "skpd", None)
    assert condition_of(INVENTORY, "dinkes", ALL_UP, repaired, False, TUESDAY_NOON) == "normal"


def test_without_readings_the_open_incident_says_which_side() -> None:
    skpd = OpenIncident("dispatched", "skpd", None)
    assert condition_of(INVENTORY, "dinkes", {}, skpd, False, TUESDAY_NOON) == "down_skpd"
    theirs = OpenIncident("opened", None, None)
    assert condition_of(INVENTORY, "dinkes", {}, theirs, False, TUESDAY_NOON) == "down_diskominfo"
    assert condition_of(INVENTORY, "dinkes", {}, None, False, TUESDAY_NOON) == "unknown"


def test_the_stage_in_plain_words_with_its_estimate() -> None:
    at_two = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 14.00 WITA
    text = stage_text("estimated", at_two, TUESDAY_NOON, "Asia/Makassar", "id")
    assert text == "Sedang ditangani, petugas menuju lokasi, perkiraan pulih 14.00 WITA"
    english = stage_text("estimated", at_two, TUESDAY_NOON, "Asia/Makassar", "en")
    assert english == "Being handled, staff on the way, expected back 14:00 WITA"
    tomorrow = stage_text(
        "dispatched", at_two + timedelta(days=1), TUESDAY_NOON, "Asia/Makassar", "id"
    )
    assert tomorrow is not None and "2 Desember 2026, 14.00 WITA" in tomorrow
    late = stage_text("estimated", at_two, at_two + timedelta(hours=1), "Asia/Makassar", "id")
    assert late == "Sedang ditangani, petugas menuju lokasi"  # a past estimate misleads
    assert stage_text("closed", None, TUESDAY_NOON, "Asia/Makassar", "id") is None


def test_each_day_says_its_downtime_on_hover() -> None:
    svg = bars_svg([Day(date(2026, 12, 1), 1 - 5400 / 86400), Day(date(2026, 12, 2), None)], "id")
    assert "<title>2026-12-01: 93.75% (gangguan 1 jam 30 menit)</title>" in svg
    assert "<title>2026-12-02: tidak ada data</title>" in svg
    assert svg.count("<rect") == 2


def test_status_settings_from_the_environment_and_the_file(tmp_path: Path) -> None:
    defaults = load_settings(env={})
    assert (defaults.status_page, defaults.status_networks) == ("public", ())
    assert defaults.status_interval == 20.0
    settings = load_settings(
        env={
            "SIGAP_STATUS_PAGE": "intranet",
            "SIGAP_STATUS_NETWORKS": "10.20.0.0/16, 192.168.1.7",
            "SIGAP_STATUS_INTERVAL": "1m",
        }
    )
    assert settings.status_page == "intranet" and settings.status_interval == 60.0
    assert settings.status_networks == (
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("192.168.1.7/32"),
    )
    with pytest.raises(SettingsError, match=r"SIGAP_STATUS_NETWORKS: 'intranet' is not an IP"):
        load_settings(env={"SIGAP_STATUS_NETWORKS": "intranet"})
    file = tmp_path / "webhook.yml"
    file.write_text("database_url: sqlite:///x.db\nstatus_page: hidden\n")
    with pytest.raises(SettingsError, match=r"webhook\.yml:2: status_page: .*'public'"):
        load_settings(str(file), env={})


EXAMPLE = (Path(__file__).resolve().parents[2] / "deploy" / "inventory.example.yml").read_text()
SETDA_PLACED = (
    '    location: {address: "Jl. Dharma Praja No. 1, Gunung Tinggi, Batulicin", '
    "lat: -3.4105, lon: 115.964}"
)


def test_an_office_may_be_placed_with_lat_and_lon_and_errors_name_line_and_path() -> None:
    setda = parse_inventory(EXAMPLE, resolve=None).skpds["setda"]
    assert setda.location == "Jl. Dharma Praja No. 1, Gunung Tinggi, Batulicin"
    assert setda.position == (-3.4105, 115.964)
    # the address alone, the form of before, stays valid: no place, no dot on the map
    address_only = EXAMPLE.replace(SETDA_PLACED, "    location: Jl. Dharma Praja No. 1")
    setda = parse_inventory(address_only, resolve=None).skpds["setda"]
    assert (setda.location, setda.position) == ("Jl. Dharma Praja No. 1", None)
    line = EXAMPLE.splitlines().index(SETDA_PLACED) + 1
    for wrong, message in [
        ("{lat: -93, lon: 115.9}", "location.lat: bad value -93"),
        ("{lat: -3.4}", "location: expected both lat and lon"),
        ("{lat: -3.4, lon: 115.9, alt: 3}", "location.alt"),
    ]:
        with pytest.raises(InventoryError) as caught:
            parse_inventory(EXAMPLE.replace(SETDA_PLACED, f"    location: {wrong}"), "i.yml")
        assert f"i.yml:{line}: skpd[0].{message}" in str(caught.value)


def test_offices_are_drawn_at_their_places() -> None:
    skpds = [
        PublicSkpd(s, s, c, None, (), (), ())
        for s, c in [("a", Condition.NORMAL), ("b", Condition.DOWN_SKPD), ("c", Condition.NORMAL)]
    ]
    svg = offices_svg(skpds, {"a": (-3.40, 115.90), "b": (-3.50, 116.00)}, "id")
    a = re.search(r'data-office="a"><circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    b = re.search(r'data-office="b"><circle cx="([\d.]+)" cy="([\d.]+)" r="7" fill="#c62828"', svg)
    assert a and b and 'data-office="c"' not in svg
    assert float(a.group(1)) < float(b.group(1)) and float(a.group(2)) < float(b.group(2))
    assert offices_svg(skpds, {}, "id") == ""


PHONE = 350
"""The width a 390 px phone leaves the map (the page's padding and the card's)."""


def every_node(down: str) -> list[PublicNode]:
    """Every node, `down` and all behind it not answering (as on a real cut)."""
    up = {**ALL_UP, down: False, **{n.id: False for n in INVENTORY.descendants(down)}}
    return [
        PublicNode(n.id, n.parent, n.role, n.skpd, up[n.id])
        for n in (INVENTORY.nodes[i] for i in INVENTORY.topology_order())
    ]


@pytest.mark.parametrize("public", [True, False], ids=["public", "noc"])
def test_the_network_is_drawn_in_branches_each_as_narrow_as_a_phone(public: bool) -> None:
    """One SVG per branch (the core with its upstreams, then each distribution router with all
    behind it), each drawn 1:1 no wider than a phone: every node once, the failed one red and
    its branch pale red with red links, the rest green."""
    nodes = every_node("uplink-dinkes")
    if public:
        nodes = list(public_nodes(INVENTORY, {n.id: bool(n.up) for n in nodes}))
    drawing = topology_svg(nodes)
    assert any(n.up is False for n in nodes if n.id == "gw-dinkes")  # down, yet not the failure
    svgs = re.findall(r'<svg class="map" viewBox="0 0 (\d+) (\d+)" width="\1" height="\2"', drawing)
    assert len(svgs) == 4, svgs
    assert all(int(width) <= PHONE for width, _ in svgs), svgs
    drawn = dict(re.findall(r'data-node="([^"]+)"><circle [^>]*fill="([^"]+)"', drawing))
    assert sorted(drawn) == sorted(n.id for n in nodes)
    behind = {n.id for n in INVENTORY.descendants("uplink-dinkes")} & set(drawn)
    assert drawn["uplink-dinkes"] == "#c62828" and behind
    assert all(drawn[n] == "#ef9a9a" for n in behind)
    assert all(c == "#2e7d32" for n, c in drawn.items() if n not in behind | {"uplink-dinkes"})
    assert drawing.count('stroke="#c62828"') == len(behind) + 1  # each link into the branch
    assert drawing.count('<g class="via">') == 3  # each branch names the node it hangs from


def test_the_offices_labels_do_not_cover_one_another() -> None:
    """The example's offices on Gunung Tinggi are a few hundred metres apart: drawn, no label
    covers another label or a dot, and the map is no wider than a phone."""
    skpds = [PublicSkpd(s, s, Condition.NORMAL, None, (), (), ()) for s in INVENTORY.skpds]
    positions = {s.id: s.position for s in INVENTORY.skpds.values() if s.position is not None}
    svg = offices_svg(skpds, positions, "id")
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1))  # type: ignore[union-attr]
    assert width <= PHONE
    dots = [
        (float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)
    ]
    labels = [
        (float(x), float(y) - 9, float(x) + 6.5 * len(t), float(y) + 3)
        for x, y, t in re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]+)</text>', svg)
    ]
    assert len(dots) == len(labels) == 11
    boxes = labels + [(x - 7, y - 7, x + 7, y + 7) for x, y in dots]
    for i, label in enumerate(labels):
        for j, other in enumerate(boxes):
            if j in (i, len(labels) + i):  # itself, its own dot
                continue
            apart = label[2] <= other[0] or other[2] <= label[0]
            apart = apart or label[3] <= other[1] or other[3] <= label[1]
            assert apart, (label, other)
