"""ICMP echo packets and the shared sockets they travel on.

Sockets come from icmplib (raw when privileged, the kernel's unprivileged datagram "ping" socket
otherwise); the hot path builds and parses packets here because icmplib's per-request objects
cost several times the whole probe budget at 20,000 probes per second.

A request's payload carries a per-process cookie, the node's slot and a 32-bit sequence number,
so one socket per address family serves every node: a reply is matched by identifier, sequence
and cookie, and anything else (another program's ping, a stale or forged reply) is told apart.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from icmplib import ICMPv4Socket, ICMPv6Socket
from icmplib.exceptions import ICMPLibError

from exporter.clock import Monotonic

ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}
_HEADER = struct.Struct("!BBHHH")
_PAYLOAD = struct.Struct("!8sII")
_PAYLOAD_PADDING = b"SIGAP-TanahBumbu"
PAYLOAD_SIZE = _PAYLOAD.size + len(_PAYLOAD_PADDING)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux value; Python's socket module does not export the constant."""
_TIMESPEC = struct.Struct("@qq")
RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024
"""Room for a second of replies from 20,000 nodes while the event loop renders a scrape."""


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(family: int, identifier: int, cookie: bytes, slot: int, sequence: int) -> bytes:
    """An echo request; IPv6 and datagram sockets get the checksum from the kernel anyway."""
    payload = _PAYLOAD.pack(cookie, slot, sequence) + _PAYLOAD_PADDING
    header = _HEADER.pack(ECHO_REQUEST[family], 0, 0, identifier, sequence & 0xFFFF)
    if family == 6:
        return header + payload
    packet = header + payload
    return _HEADER.pack(8, 0, checksum(packet), identifier, sequence & 0xFFFF) + payload


class Reply(NamedTuple):
    identifier: int
    cookie: bytes
    slot: int
    sequence: int


class NotOurs(Exception):
    """A packet that is no echo reply to any request of this process (its reason in args)."""


def parse_reply(family: int, data: bytes, has_ip_header: bool) -> Reply | None:
    """The echo reply in `data`, or None for ICMP that is not an echo reply (our own requests
    looped back, unreachables of other programs). Raises NotOurs for a malformed echo reply."""
    offset = (data[0] & 0x0F) * 4 if has_ip_header and data else 0
    if len(data) < offset + _HEADER.size:
        raise NotOurs("invalid")
    icmp_type, _code, _sum, identifier, sequence16 = _HEADER.unpack_from(data, offset)
    if icmp_type != ECHO_REPLY[family]:
        return None
    if len(data) < offset + _HEADER.size + _PAYLOAD.size:
        raise NotOurs("invalid")
    cookie, slot, sequence = _PAYLOAD.unpack_from(data, offset + _HEADER.size)
    if sequence & 0xFFFF != sequence16:
        raise NotOurs("invalid")
    return Reply(identifier, cookie, slot, sequence)


def kernel_timestamp(ancdata: list[tuple[int, int, bytes]]) -> float | None:
    """The receive time the kernel stamped on a packet (Unix time), if it did."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return seconds + nanoseconds / 1e9
    return None


@dataclass(frozen=True)
class EchoSocket:
    """One non-blocking ICMP socket of a family, and how it was obtained."""

    family: int
    icmp: ICMPv4Socket | ICMPv6Socket
    """icmplib's socket object; it closes the socket when collected, so it is kept here."""
    kind: str
    """"raw" or "datagram"."""
    reason: str
    """Why this kind: shown at start-up so an operator knows what the exporter needs."""

    @property
    def sock(self) -> socket.socket:
        return self.icmp.sock  # type: ignore[no-any-return]

    def close(self) -> None:
        self.icmp.close()

    @property
    def has_ip_header(self) -> bool:
        return self.family == 4 and self.kind == "raw"

    @property
    def identifier(self) -> int:
        """The ICMP identifier we send (the kernel replaces it on datagram sockets)."""
        return os.getpid() & 0xFFFF


class SocketUnavailable(Exception):
    """Neither a raw nor a datagram ICMP socket could be opened; the message says what to fix."""


def _ping_group_range() -> str:
    try:
        with open("/proc/sys/net/ipv4/ping_group_range") as f:
            return " ".join(f.read().split())
    except OSError:
        return "unknown"


def open_echo_socket(family: int, privileged: bool | None = None) -> EchoSocket:
    """Raw when privileged, else the kernel's datagram ICMP socket when ping_group_range allows.
    `privileged` True or False asks for that kind only (the webhook's SIGAP_PING_PRIVILEGED)."""
    factory = ICMPv4Socket if family == 4 else ICMPv6Socket
    try:
        if privileged is False:
            raise ICMPLibError("a datagram socket was asked for")
        icmp = factory(privileged=True)
        kind, reason = "raw", "privileged (CAP_NET_RAW): raw socket, no datagram socket needed"
    except ICMPLibError as raw_error:
        if privileged:
            raise SocketUnavailable(
                f"cannot open a raw IPv{family} ICMP socket ({raw_error}); it needs CAP_NET_RAW"
            ) from raw_error
        groups = _ping_group_range()
        try:
            icmp = factory(privileged=False)
        except ICMPLibError as dgram_error:
            raise SocketUnavailable(
                f"cannot open an IPv{family} ICMP socket: raw needs CAP_NET_RAW ({raw_error}); "
                f"datagram needs this process's group (gid {os.getgid()}) inside "
                f"net.ipv4.ping_group_range (now {groups!r}) ({dgram_error}). Fix: run with "
                "CAP_NET_RAW (setcap cap_net_raw+ep, or docker cap_add: [NET_RAW]) or set "
                f"sysctl net.ipv4.ping_group_range='0 2147483647'"
            ) from dgram_error
        kind = "datagram"
        reason = (
            f"no CAP_NET_RAW for a raw socket; gid {os.getgid()} is inside "
            f"net.ipv4.ping_group_range {groups!r}, so the kernel's datagram ICMP socket is used"
        )
    sock = icmp.sock
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    return EchoSocket(family, icmp, kind, reason)


# --- shared by request/response users of the socket (the webhook's ping check) -----------------

_SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)
_LD_B, _LD_H, _LD_B_X, _LD_H_X, _LDX_IP_HEADER, _JEQ, _RET = (
    0x30,  # A = byte at k
    0x28,  # A = half-word at k
    0x50,  # A = byte at X + k
    0x48,  # A = half-word at X + k
    0xB1,  # X = 4 * (byte at k & 0xF): the IPv4 header length
    0x15,  # if A == k: skip jt, else skip jf
    0x06,  # return k bytes of the packet (0: drop it)
)


def keep_only_own_replies(echo_socket: EchoSocket) -> None:
    """Have the kernel drop the ICMP a raw socket sees that is no echo reply to this process's
    identifier, before it wakes us: a raw socket receives every ICMP packet of the host, and an
    exporter's 20,000 replies a second would otherwise cost a CPU here. (Datagram sockets are
    already matched by the kernel.)"""
    if echo_socket.kind != "raw":
        return
    reply, identifier = ECHO_REPLY[echo_socket.family], echo_socket.identifier
    if echo_socket.has_ip_header:
        start = [(_LDX_IP_HEADER, 0, 0, 0), (_LD_B_X, 0, 0, 0)]
        check_id = (_LD_H_X, 0, 0, 4)
    else:
        start = [(_LD_B, 0, 0, 0)]
        check_id = (_LD_H, 0, 0, 4)
    program = [*start, (_JEQ, 0, 3, reply), check_id, (_JEQ, 0, 1, identifier)]
    program += [(_RET, 0, 0, 0xFFFF), (_RET, 0, 0, 0)]
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *op) for op in program))
    fprog = struct.pack("HL", len(program), ctypes.addressof(code))
    echo_socket.sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)


class Arrival(NamedTuple):
    """An echo reply of this process, as it came off the socket."""

    reply: Reply
    source: str
    """The address it came from (without an IPv6 zone)."""
    received_at: float
    """time.monotonic() when read."""
    read_at: float
    """time.time() when read."""
    stamped: float | None
    """The kernel's receive timestamp (wall clock), when the socket gives one."""

    @property
    def queued(self) -> float:
        """Seconds it waited in the socket's buffer before being read (0 when unknown):
        subtract it from the RTT."""
        return max(0.0, self.read_at - self.stamped) if self.stamped is not None else 0.0


def receive_replies(
    echo_socket: EchoSocket,
    cookie: bytes,
    dropped: Counter[str],
    limit: int | None = None,
    monotonic: Monotonic = time.monotonic,
) -> list[Arrival]:
    """At most `limit` echo replies waiting on the non-blocking socket that carry `cookie`; the
    other packets are counted in `dropped` by reason (as the exporter's metric names them).
    A bounded read lets the caller hand the loop back between two handfuls of replies; None
    drains the socket. `monotonic`: the clock the requests' send times were read on."""
    sock, family, with_ip = echo_socket.sock, echo_socket.family, echo_socket.has_ip_header
    found: list[Arrival] = []
    while limit is None or len(found) < limit:
        try:
            data, ancdata, _flags, address = sock.recvmsg(PAYLOAD_SIZE + 128, 64)
        except (BlockingIOError, InterruptedError):
            break
        except OSError as error:  # an ICMP error queued on a datagram socket
            dropped[errno.errorcode.get(error.errno or 0, "unknown").lower()] += 1
            continue
        received_at = monotonic()
        try:
            reply = parse_reply(family, data, with_ip)
        except NotOurs as reason:
            dropped[str(reason)] += 1
            continue
        if reply is None:
            continue
        if reply.cookie != cookie:
            dropped["foreign"] += 1
            continue
        source = address[0].split("%")[0]
        found.append(Arrival(reply, source, received_at, time.time(), kernel_timestamp(ancdata)))
    return found
