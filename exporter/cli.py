"""`sigap-exporter`: flags in the style of the Prometheus exporters."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from exporter import __version__, inventory_cli
from exporter.flags import parse_listen_address
from exporter.inventory import InventoryError, load_inventory
from exporter.logfmt import setup_logging
from exporter.prober import ProbeEngine, Shard
from exporter.web import ExporterService, create_app
from exporter.webconfig import WebConfigError, load_web_config

log = logging.getLogger("sigap.exporter")
DEFAULT_LISTEN = ":9427"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigap-exporter",
        description="Continuous ICMP probes of every node of the SIGAP inventory, for Prometheus.",
        epilog="sigap-exporter inventory import|export|diff|template: bring a network in from a "
        "spreadsheet or NetBox (sigap-exporter inventory --help).",
    )
    parser.add_argument(
        "--config.file",
        dest="config_file",
        type=Path,
        required=True,
        help="the inventory YAML file",
    )
    parser.add_argument(
        "--config.check",
        dest="config_check",
        action="store_true",
        help="validate the inventory (and the --web.config.file) and exit (0 valid, 1 invalid)",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen",
        default=DEFAULT_LISTEN,
        help=f"address to serve /metrics on (default {DEFAULT_LISTEN})",
    )
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        type=Path,
        help="TLS and basic auth, in the format of Prometheus' exporter-toolkit (default: none)",
    )
    parser.add_argument(
        "--web.enable-lifecycle",
        dest="enable_lifecycle",
        action="store_true",
        help="let POST /-/reload reload the inventory (SIGHUP always does)",
    )
    parser.add_argument(
        "--shard",
        default="0/1",
        help="i/n: probe and publish only the SKPDs of shard i of n (default 0/1)",
    )
    parser.add_argument(
        "--log.level",
        dest="log_level",
        default="info",
        choices=["debug", "info", "warning", "error"],
    )
    parser.add_argument(
        "--log.format", dest="log_format", default="logfmt", choices=["logfmt", "json"]
    )
    parser.add_argument("--version", action="version", version=f"sigap-exporter {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["inventory"]:
        return inventory_cli.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        host, port = parse_listen_address(args.listen)
        shard = Shard.parse(args.shard)
    except ValueError as error:
        parser.error(str(error))
    setup_logging(args.log_level, args.log_format)
    if args.config_check:
        return _check(args)
    service = ExporterService(
        args.config_file, ProbeEngine(shard), web_config_file=args.web_config_file
    )
    failed = service.load()
    if failed is not None:
        print(failed, file=sys.stderr)
        return 1
    engine, web_config = service.engine, service.web_config
    app = create_app(service, enable_lifecycle=args.enable_lifecycle)
    reloads: set[asyncio.Task[str | None]] = set()

    async def on_sighup(app: web.Application) -> None:
        def reload_now() -> None:
            task = asyncio.get_running_loop().create_task(service.reload())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_now)

    app.on_startup.append(on_sighup)
    log.info(
        "listening",
        extra={
            "address": args.listen,
            "nodes": len(engine.order),
            "shard": args.shard,
            "web": web_config.describe(),
            "lifecycle": args.enable_lifecycle,
            "version": __version__,
        },
    )
    web.run_app(
        app,
        host=host,
        port=port,
        ssl_context=web_config.ssl_context,
        print=None,
        access_log=None,
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    """`--config.check`: the files validated as a start or a reload would, nothing probed."""
    try:
        inventory = load_inventory(args.config_file)
        web_config = load_web_config(args.web_config_file) if args.web_config_file else None
    except (InventoryError, WebConfigError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.config_file}: valid: {len(inventory.nodes)} nodes, {len(inventory.skpds)} SKPDs")
    if web_config is not None:
        print(f"{args.web_config_file}: valid: {web_config.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
