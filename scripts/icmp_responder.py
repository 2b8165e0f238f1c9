#!/usr/bin/env python3
"""A userspace ICMP echo responder that drops and delays on purpose (this kernel has no netem).

Run it inside a network namespace: it turns the kernel's own echo replies off there
(net.ipv4.icmp_echo_ignore_all is per namespace) and answers every IPv4 echo request itself,
dropping a fraction and delaying the rest. A receiving thread never waits for a delayed reply;
a sending thread sends each reply at its time, so delays are exact to well under a millisecond.

    ip netns exec NS python3 scripts/icmp_responder.py --loss 0.3 --delay 0.05

On SIGTERM/SIGINT it prints how many requests it saw and dropped, and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import random
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

IGNORE_ALL = Path("/proc/sys/net/ipv4/icmp_echo_ignore_all")


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_reply(request: bytes) -> bytes | None:
    """The reply to an IPv4 packet holding an ICMP echo request, or None if it is not one."""
    header_length = (request[0] & 0x0F) * 4
    icmp = request[header_length:]
    if len(icmp) < 8 or icmp[0] != 8:
        return None
    reply = b"\0\0\0\0" + icmp[4:]  # type 0 (echo reply), code 0, checksum to fill in
    return reply[:2] + struct.pack("!H", checksum(reply)) + reply[4:]


class Responder:
    def __init__(
        self, loss: float, delay: float, jitter: float, seed: int | None, spread_evenly: bool
    ) -> None:
        self.loss, self.delay, self.jitter = loss, delay, jitter
        self.random = random.Random(seed)
        self.spread_evenly = spread_evenly
        self._debt = 0.0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.pending: list[tuple[float, int, bytes, str]] = []
        self.ready = threading.Condition()
        self.seen = self.dropped = 0
        self._order = 0

    def receive_forever(self) -> None:
        while True:
            packet, (source, _) = self.sock.recvfrom(65535)
            reply = echo_reply(packet)
            if reply is None:
                continue
            self.seen += 1
            if self._drop():
                self.dropped += 1
                continue
            wait = max(0.0, self.delay + self.random.uniform(-self.jitter, self.jitter))
            if wait == 0.0:
                self.sock.sendto(reply, (source, 0))
                continue
            with self.ready:
                self._order += 1
                heapq.heappush(self.pending, (time.monotonic() + wait, self._order, reply, source))
                self.ready.notify()

    def _drop(self) -> bool:
        """Random drops, or exactly `loss` of every run of requests (error diffusion)."""
        if not self.spread_evenly:
            return self.random.random() < self.loss
        self._debt += self.loss
        if self._debt >= 1.0 - 1e-9:
            self._debt -= 1.0
            return True
        return False

    def send_forever(self) -> None:
        while True:
            with self.ready:
                while not self.pending or self.pending[0][0] > time.monotonic():
                    timeout = self.pending[0][0] - time.monotonic() if self.pending else None
                    self.ready.wait(timeout)
                _, _, reply, source = heapq.heappop(self.pending)
            # A link cut meanwhile loses the reply, as it would on a real link.
            with contextlib.suppress(OSError):
                self.sock.sendto(reply, (source, 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loss", type=float, default=0.0, help="fraction of requests dropped")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to each reply")
    parser.add_argument("--jitter", type=float, default=0.0, help="± seconds around --delay")
    parser.add_argument(
        "--random",
        action="store_true",
        help="drop at random (default: spread the losses evenly, exactly --loss of requests)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of --random")
    args = parser.parse_args()
    if not 0.0 <= args.loss <= 1.0:
        parser.error("--loss must be between 0 and 1")
    IGNORE_ALL.write_text("1\n")
    responder = Responder(args.loss, args.delay, args.jitter, args.seed, not args.random)

    def stop(signum: int, frame: object) -> None:
        print(f"seen={responder.seen} dropped={responder.dropped}", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=responder.send_forever, daemon=True).start()
    threading.Thread(target=responder.receive_forever, daemon=True).start()
    print("ready", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
