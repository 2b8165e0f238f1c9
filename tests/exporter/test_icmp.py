"""Echo packets: what goes out parses back, and what is not ours is told apart."""

from __future__ import annotations

import struct

import pytest

from exporter.icmp import NotOurs, checksum, echo_request, parse_reply


def test_checksum_matches_rfc_1071_example() -> None:
    # RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement 220d).
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D


def test_a_request_has_a_valid_checksum() -> None:
    packet = echo_request(4, 0x1234, b"cookie!!", 7, 70000)
    assert packet[0] == 8
    assert checksum(packet) == 0


def _as_reply(request: bytes, ip_header: bool) -> bytes:
    reply = bytes([0]) + request[1:]
    header = bytes([0x45]) + bytes(19) if ip_header else b""
    return header + reply


@pytest.mark.parametrize("ip_header", [True, False])
def test_a_reply_to_our_request_parses_to_its_slot_and_sequence(ip_header: bool) -> None:
    request = echo_request(4, 0x1234, b"cookie!!", 7, 70000)
    reply = parse_reply(4, _as_reply(request, ip_header), ip_header)
    assert reply is not None
    assert (reply.identifier, reply.cookie, reply.slot, reply.sequence) == (
        0x1234,
        b"cookie!!",
        7,
        70000,
    )


def test_ipv6_reply_type_is_129() -> None:
    request = echo_request(6, 1, b"cookie!!", 3, 5)
    assert request[0] == 128
    reply = parse_reply(6, bytes([129]) + request[1:], False)
    assert reply is not None and reply.slot == 3


def test_other_icmp_is_ignored_and_a_mangled_reply_is_invalid() -> None:
    request = echo_request(4, 1, b"cookie!!", 3, 5)
    assert parse_reply(4, request, False) is None  # our own request, looped back
    with pytest.raises(NotOurs, match="invalid"):
        parse_reply(4, bytes([0]) + request[1:12], False)  # truncated payload
    tampered = bytearray(bytes([0]) + request[1:])
    tampered[6:8] = struct.pack("!H", 6)  # header sequence disagrees with the payload's
    with pytest.raises(NotOurs, match="invalid"):
        parse_reply(4, bytes(tampered), False)
