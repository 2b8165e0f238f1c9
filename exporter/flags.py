"""Command-line conventions both SIGAP services share, importable without the prober."""

from __future__ import annotations


def parse_listen_address(text: str) -> tuple[str | None, int]:
    """``HOST:PORT``, ``:PORT`` (all interfaces) or ``[::1]:PORT``."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--web.listen-address {text!r}: expected HOST:PORT, e.g. :9427")
    host = host.strip("[]")
    return (host or None), int(port)
