#!/usr/bin/env python3
"""The SIGAP network lab: the example inventory built as real hosts on this machine.

Every node becomes a network namespace ``sgl-<node id>`` holding the node's address on ``eth0``,
joined by a veth pair ``sglv<n>`` to the root namespace, where the exporter runs. The topology
(``parent``, ``parents``) lives in the lab, not in routing: cutting a node's link takes down the
veths of the node and of everything behind it that has no other path (a node with redundant
``parents`` goes dark only when every parent has), exactly what the NOC would see if that link
broke. A star of
veths keeps ~100 nodes to two batched ``ip`` calls plus one per namespace (well under 20 s).

    sudo python3 scripts/lab.py up                    # build deploy/inventory.example.yml
    sudo python3 scripts/lab.py cut uplink-dinkes     # the link above uplink-dinkes breaks
    sudo python3 scripts/lab.py silence sw-rsud-core  # the device stops answering ping
    sudo python3 scripts/lab.py lossy gw-dpupr 0.3    # 30 % of echo requests dropped
    sudo python3 scripts/lab.py slow gw-disdik 0.2    # 200 ms added to every reply
    sudo python3 scripts/lab.py restore [NODE]        # undo the faults (of NODE, or all)
    sudo python3 scripts/lab.py status
    sudo python3 scripts/lab.py down                  # also cleans up after a crash

Addresses come from 198.18.0.0/16 only; an ``unreachable 198.18.0.0/16`` route keeps probes of
a cut node on this machine. The lab's state (faults, responder PIDs) is kept in
``/run/sigap-lab/state.json`` so separate invocations, and tests importing `Lab`, share it.
Lossy and slow nodes use scripts/icmp_responder.py inside the node's namespace (no netem here).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from exporter.inventory import Inventory, load_inventory  # noqa: E402

PREFIX = os.environ.get("SIGAP_LAB_PREFIX", "sgl")
"""Of the lab's namespaces and veths. Another prefix builds a second lab beside the first when run
from a network namespace of its own (scripts/test.sh does, to run the lab tests in two halves)."""
if not re.fullmatch(r"[a-z]{2,4}", PREFIX):
    sys.exit(f"SIGAP_LAB_PREFIX={PREFIX!r}: expected 2-4 lowercase letters (default sgl)")
NETNS_PREFIX = f"{PREFIX}-"
VETH_PREFIX = f"{PREFIX}v"
LAB_NET = "198.18.0.0/16"
GATEWAY = "198.18.255.254"
"""The root namespace's address on every veth: the nodes' default gateway and the probes' source."""
DEFAULT_INVENTORY = ROOT / "deploy" / "inventory.example.yml"
DEFAULT_STATE_DIR = Path("/run/sigap-lab")
RESPONDER = ROOT / "scripts" / "icmp_responder.py"


class LabError(Exception):
    """A lab command that cannot be done as asked (unknown node, lab not up, ...)."""


@dataclass
class Faults:
    """What is broken now; the lab's whole mutable state."""

    inventory: str
    cut: list[str] = field(default_factory=list)
    silenced: list[str] = field(default_factory=list)
    responders: dict[str, dict[str, object]] = field(default_factory=dict)
    """node id -> {"pid": int, "args": [...]} of its icmp_responder."""


# --- the pure core: names, plans and what is reachable --------------------------------------------


def netns_name(node_id: str) -> str:
    return f"{NETNS_PREFIX}{node_id}"


def veth_names(inventory: Inventory) -> dict[str, str]:
    """Root-side veth of each node (interface names are limited to 15 characters)."""
    return {node_id: f"{VETH_PREFIX}{i}" for i, node_id in enumerate(inventory.nodes)}


def dark_nodes(inventory: Inventory, cut: Iterable[str]) -> set[str]:
    """Nodes that cannot be reached: each cut node, and every node all of whose parents are
    dark (a node with redundant paths stays lit while one of them is)."""
    cut_off = set(cut)
    dark: set[str] = set()
    for node in inventory.nodes.values():  # parents first
        if node.id in cut_off or (node.parents and all(p in dark for p in node.parents)):
            dark.add(node.id)
    return dark


def up_plan(inventory: Inventory) -> tuple[list[str], dict[str, list[str]]]:
    """`ip -batch` lines for the root namespace, and for each node namespace its own lines."""
    veths = veth_names(inventory)
    root = [f"route replace unreachable {LAB_NET} metric 4000"]
    inner: dict[str, list[str]] = {}
    for node in inventory.nodes.values():
        if node.family != 4:
            raise LabError(f"{node.id}: the lab builds IPv4 nodes only, not {node.ip}")
        ns, veth = netns_name(node.id), veths[node.id]
        root += [
            f"netns add {ns}",
            f"link add {veth} type veth peer name eth0 netns {ns}",
            f"address add {GATEWAY}/32 dev {veth}",
            f"link set {veth} up",
            f"route replace {node.ip}/32 dev {veth} src {GATEWAY}",
        ]
        inner[ns] = [
            "link set lo up",
            f"address add {node.ip}/32 dev eth0",
            "link set eth0 up",
            f"route add {GATEWAY}/32 dev eth0",
            f"route add default via {GATEWAY} dev eth0",
        ]
    return root, inner


def link_plan(inventory: Inventory, cut: Iterable[str]) -> list[str]:
    """`ip -batch` lines that make the veths match the cut links (a link going down drops its
    route, so every lit node gets its route back)."""
    veths = veth_names(inventory)
    dark = dark_nodes(inventory, cut)
    lines: list[str] = []
    for node in inventory.nodes.values():
        veth = veths[node.id]
        if node.id in dark:
            lines.append(f"link set {veth} down")
        else:
            lines += [f"link set {veth} up", f"route replace {node.ip}/32 dev {veth} src {GATEWAY}"]
    return lines


# --- the I/O edge ---------------------------------------------------------------------------------


def _ip_batch(lines: Sequence[str], netns: str | None = None) -> None:
    if not lines:
        return
    cmd = ["ip", *(["-n", netns] if netns else []), "-batch", "-"]
    result = subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True)
    if result.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed: {result.stderr.strip()}")


def lab_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    names = (line.split()[0] for line in out.splitlines() if line.strip())
    return [name for name in names if name.startswith(NETNS_PREFIX)]


def _is_our_responder(pid: int) -> bool:
    """Guards against killing a process that reused a dead responder's PID."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return RESPONDER.name.encode() in cmdline


class Lab:
    """The lab on this machine; every method is safe to call again (idempotent)."""

    def __init__(
        self, inventory: str | Path = DEFAULT_INVENTORY, state_dir: Path = DEFAULT_STATE_DIR
    ) -> None:
        self.inventory_path = Path(inventory).resolve()
        self.inventory = load_inventory(self.inventory_path, resolve=None)
        self.state_file = state_dir / "state.json"

    # state

    def _load(self) -> Faults:
        try:
            return Faults(**json.loads(self.state_file.read_text()))
        except FileNotFoundError:
            raise LabError("the lab is not up (run: scripts/lab.py up)") from None

    def _save(self, faults: Faults) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(faults), indent=1))
        tmp.replace(self.state_file)

    def _node(self, node_id: str) -> str:
        if node_id not in self.inventory.nodes:
            raise LabError(f"unknown node {node_id!r} (see: scripts/lab.py status)")
        return node_id

    # building

    def up(self) -> float:
        """Build the network from scratch (tearing down any previous lab); returns seconds taken."""
        started = time.monotonic()
        self.down()
        root, inner = up_plan(self.inventory)
        _ip_batch(root)
        for ns, lines in inner.items():
            _ip_batch(lines, netns=ns)
        self._save(Faults(inventory=str(self.inventory_path)))
        return time.monotonic() - started

    def down(self) -> None:
        """Remove everything the lab made, also after a crash: by the state file and by prefix."""
        try:
            faults = self._load()
        except (LabError, ValueError, TypeError):
            faults = None
        if faults is not None:
            for node_id in list(faults.responders):
                self._stop_responder(faults, node_id)
        for ns in lab_namespaces():
            # Whatever still runs in a lab namespace (a responder whose PID the state lost in a
            # crash) was started by the lab; a deleted namespace would hide it.
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGTERM)
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            if name.startswith(VETH_PREFIX):
                subprocess.run(["ip", "link", "delete", name], capture_output=True)
        subprocess.run(
            ["ip", "route", "delete", "unreachable", LAB_NET, "metric", "4000"], capture_output=True
        )
        self.state_file.unlink(missing_ok=True)

    # faults

    def cut(self, node_id: str) -> None:
        """Break the link between the node and its parents: it goes dark, and so does everything
        behind it without another path."""
        faults = self._load()
        if self._node(node_id) not in faults.cut:
            faults.cut.append(node_id)
        _ip_batch(link_plan(self.inventory, faults.cut))
        self._save(faults)

    def silence(self, node_id: str) -> None:
        """The device stops answering ping (still forwarding for the nodes behind it)."""
        faults = self._load()
        self._stop_responder(faults, self._node(node_id))
        self._set_ignore_all(node_id, True)
        if node_id not in faults.silenced:
            faults.silenced.append(node_id)
        self._save(faults)

    def lossy(self, node_id: str, ratio: float) -> None:
        self._respond(node_id, ["--loss", str(ratio)])

    def slow(self, node_id: str, seconds: float) -> None:
        self._respond(node_id, ["--delay", str(seconds)])

    def restore(self, node_id: str | None = None) -> None:
        """Undo every fault of the node, or of the whole lab when no node is given."""
        faults = self._load()
        nodes = [self._node(node_id)] if node_id else list(self.inventory.nodes)
        for nid in nodes:
            if nid in faults.cut:
                faults.cut.remove(nid)
            if nid in faults.responders:
                self._stop_responder(faults, nid)
            if nid in faults.silenced:
                faults.silenced.remove(nid)
                self._set_ignore_all(nid, False)
        _ip_batch(link_plan(self.inventory, faults.cut))
        self._save(faults)

    def status(self) -> dict[str, str]:
        """Each node's state: ok, cut, dark (behind a cut), silenced, or the responder's options."""
        faults = self._load()
        dark = dark_nodes(self.inventory, faults.cut)
        states: dict[str, str] = {}
        for nid in self.inventory.nodes:
            if nid in faults.cut:
                states[nid] = "cut"
            elif nid in dark:
                states[nid] = "dark"
            elif nid in faults.silenced:
                states[nid] = "silenced"
            elif nid in faults.responders:
                args = faults.responders[nid]["args"]
                states[nid] = " ".join(str(a) for a in args) if isinstance(args, list) else "?"
            else:
                states[nid] = "ok"
        return states

    # helpers

    def _set_ignore_all(self, node_id: str, on: bool) -> None:
        subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                netns_name(node_id),
                "sysctl",
                "-qw",
                f"net.ipv4.icmp_echo_ignore_all={int(on)}",
            ],
            check=True,
        )

    def _respond(self, node_id: str, args: list[str]) -> None:
        faults = self._load()
        self._stop_responder(faults, self._node(node_id))
        if node_id in faults.silenced:
            faults.silenced.remove(node_id)
        proc = subprocess.Popen(
            ["ip", "netns", "exec", netns_name(node_id), sys.executable, str(RESPONDER), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives the CLI invocation that started it
        )
        faults.responders[node_id] = {"pid": proc.pid, "args": args}
        self._save(faults)

    def _stop_responder(self, faults: Faults, node_id: str) -> None:
        entry = faults.responders.pop(node_id, None)
        if entry is None:
            return
        pid = entry["pid"]
        if isinstance(pid, int) and _is_our_responder(pid):
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not _is_our_responder(pid):
                    break
                time.sleep(0.02)
        ns = netns_name(node_id)
        if ns in lab_namespaces() and node_id not in faults.silenced:
            self._set_ignore_all(node_id, False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--inventory", default=str(DEFAULT_INVENTORY), help="inventory YAML")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="build the lab (from scratch)")
    commands.add_parser("down", help="remove the lab (also after a crash)")
    commands.add_parser("status", help="show each node's state")
    for name, what in (("cut", "break the link above NODE"), ("silence", "NODE ignores ping")):
        commands.add_parser(name, help=what).add_argument("node")
    restore = commands.add_parser("restore", help="undo the faults of NODE, or all")
    restore.add_argument("node", nargs="?")
    lossy = commands.add_parser("lossy", help="NODE drops RATIO of echo requests")
    lossy.add_argument("node")
    lossy.add_argument("ratio", type=float)
    slow = commands.add_parser("slow", help="NODE answers SECONDS late")
    slow.add_argument("node")
    slow.add_argument("seconds", type=float)
    args = parser.parse_args(argv)

    if os.geteuid() != 0:
        parser.error("the lab needs root (network namespaces): run it with sudo")
    try:
        lab = Lab(args.inventory, args.state_dir)
        if args.command == "up":
            took = lab.up()
            print(f"lab up: {len(lab.inventory.nodes)} nodes in {took:.1f} s ({LAB_NET})")
        elif args.command == "down":
            lab.down()
            print("lab down")
        elif args.command == "status":
            for node_id, state in lab.status().items():
                node = lab.inventory.nodes[node_id]
                print(f"{node.skpd:<16} {node_id:<24} {node.ip:<15} {state}")
        elif args.command == "cut":
            lab.cut(args.node)
        elif args.command == "silence":
            lab.silence(args.node)
        elif args.command == "lossy":
            lab.lossy(args.node, args.ratio)
        elif args.command == "slow":
            lab.slow(args.node, args.seconds)
        elif args.command == "restore":
            lab.restore(args.node)
    except LabError as err:
        print(f"lab.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
