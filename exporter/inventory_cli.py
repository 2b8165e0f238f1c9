"""`sigap-exporter inventory import|export|diff|template`: bringing a network in.

Exit codes: 0 done (diff: no differences), 1 refused with the reasons (diff: differences), 2 a
command-line mistake or (diff) an inventory that cannot be read, as diff(1) does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from exporter.importer import Imported, import_table, write_atomically
from exporter.inventory import Inventory, InventoryError, load_inventory
from exporter.inventory_diff import as_json, diff_inventories, format_text, summary
from exporter.netbox import fetch_table
from exporter.sheet import SheetError, Table, inventory_table
from exporter.sheetio import SPREADSHEET_SUFFIXES, read_table, template_table, write_table

DEFAULT_INVENTORY = Path("inventory.yml")
TOKEN_VARIABLE = "SIGAP_NETBOX_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigap-exporter inventory",
        description="Bring a network in from a spreadsheet or NetBox, and see what a change does "
        "before a reload (README: 'Bringing a network in').",
    )
    words = parser.add_subparsers(dest="word", required=True)
    imp = words.add_parser(
        "import",
        help="write the inventory YAML from a spreadsheet (.xlsx, .csv) or NetBox",
        description="Writes --output from the spreadsheet's rows (or NetBox's devices). An "
        "existing --output keeps its comments, ids and every SKPD the rows do not list. "
        "Nothing is written unless the result loads as the exporter would load it.",
    )
    imp.add_argument("file", nargs="?", type=Path, help="the spreadsheet (.xlsx or .csv)")
    imp.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_INVENTORY,
        help=f"the inventory YAML to write (default {DEFAULT_INVENTORY})",
    )
    imp.add_argument("--from-netbox", dest="netbox", metavar="URL", help="NetBox's address")
    imp.add_argument(
        "--token",
        help=f"NetBox API token (better: {TOKEN_VARIABLE} or {TOKEN_VARIABLE}_FILE, which "
        "other users cannot see in the process list)",
    )
    imp.add_argument(
        "--prune",
        action="store_true",
        help="remove the SKPDs (and core nodes) the rows do not list: the rows are the whole "
        "network",
    )
    imp.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="say what would change, write nothing",
    )
    exp = words.add_parser("export", help="write the inventory as a spreadsheet")
    exp.add_argument("file", type=Path, help="the spreadsheet to write (.xlsx or .csv)")
    exp.add_argument(
        "--config.file",
        dest="config_file",
        type=Path,
        default=DEFAULT_INVENTORY,
        help=f"the inventory YAML (default {DEFAULT_INVENTORY})",
    )
    diff = words.add_parser(
        "diff",
        help="what NEW adds, removes, re-parents, readdresses and renames against OLD",
        description="OLD and NEW are inventory YAML files; NEW may also be a spreadsheet, "
        "imported over OLD in memory. Exit 0: the same network, 1: differences, 2: trouble.",
    )
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.add_argument("--format", choices=["text", "json"], default="text")
    tpl = words.add_parser("template", help="write the empty template spreadsheet")
    tpl.add_argument("file", type=Path, help="where to write it (.xlsx)")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.word == "import":
        return _import(parser, args)
    if args.word == "export":
        return _export(args)
    if args.word == "diff":
        return _diff(args)
    if not _written(template_table(), args.file):
        return 1
    print(f"{args.file}: template written")
    return 0


def _written(table: Table, path: Path) -> bool:
    try:
        write_table(table, path)
    except OSError as exc:
        print(f"{path}: cannot write it: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def _token(parser: argparse.ArgumentParser, given: str | None) -> str:
    """--token, else SIGAP_NETBOX_TOKEN, else the file SIGAP_NETBOX_TOKEN_FILE names."""
    value, path = os.environ.get(TOKEN_VARIABLE, ""), os.environ.get(f"{TOKEN_VARIABLE}_FILE", "")
    if given:
        return given
    if value and path:
        parser.error(f"{TOKEN_VARIABLE}, {TOKEN_VARIABLE}_FILE: set one of them, not both")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            parser.error(f"{TOKEN_VARIABLE}_FILE: cannot read {path}: {exc}")
    if not value:
        parser.error(
            f"--from-netbox needs a token: --token, {TOKEN_VARIABLE} or {TOKEN_VARIABLE}_FILE"
        )
    return value


def _table(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Table:
    if (args.file is None) == (args.netbox is None):
        parser.error("import: give a spreadsheet FILE or --from-netbox URL (one of them)")
    if args.netbox is not None:
        return asyncio.run(fetch_table(args.netbox, _token(parser, args.token)))
    if args.file.suffix.lower() not in SPREADSHEET_SUFFIXES:
        parser.error(f"import: {args.file}: expected a spreadsheet ending in .xlsx or .csv")
    return read_table(args.file)


def _existing(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SheetError([f"{path}: cannot read it to import over: {exc}"]) from exc


def _import(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        table = _table(parser, args)
        existing = _existing(args.output)
        imported = import_table(table, existing, str(args.output), prune=args.prune)
    except SheetError as error:
        print(error, file=sys.stderr)
        print(f"{args.output}: not written (nothing imported)", file=sys.stderr)
        return 1
    _say_changes(existing, imported, args.output)
    if args.dry_run or not imported.changed:
        print(
            f"{args.output}: {'unchanged' if not imported.changed else 'not written (--dry-run)'}"
        )
        return 0
    try:
        write_atomically(args.output, imported.text)
    except OSError as exc:
        print(f"{args.output}: cannot write it: {exc.strerror or exc}", file=sys.stderr)
        return 1
    inv = imported.inventory
    print(f"{args.output}: written: {len(inv.nodes)} nodes, {len(inv.skpds)} SKPDs")
    return 0


def _say_changes(existing: str | None, imported: Imported, output: Path) -> None:
    if existing is None:
        return
    try:
        before = load_inventory(output, resolve=None)
    except InventoryError:
        return  # the old file did not load: there is nothing to compare with
    print(format_text(diff_inventories(before, imported.inventory)))


def _export(args: argparse.Namespace) -> int:
    if args.file.suffix.lower() not in SPREADSHEET_SUFFIXES:
        print(f"{args.file}: expected a spreadsheet name ending in .xlsx or .csv", file=sys.stderr)
        return 2
    try:
        inventory = load_inventory(args.config_file, resolve=None)
    except InventoryError as error:
        print(error, file=sys.stderr)
        return 1
    table = inventory_table(inventory)
    if not _written(table, args.file):
        return 1
    print(f"{args.file}: {len(table.devices)} rows ({len(inventory.nodes)} nodes)")
    return 0


def _load_new(path: Path, old_path: Path) -> Inventory:
    """NEW of a diff: an inventory, or a spreadsheet imported over OLD in memory."""
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        text = old_path.read_text(encoding="utf-8")
        return import_table(read_table(path), text, str(old_path), resolve=None).inventory
    return load_inventory(path, resolve=None)


def _diff(args: argparse.Namespace) -> int:
    try:
        old = load_inventory(args.old, resolve=None)
        new = _load_new(args.new, args.old)
    except (InventoryError, SheetError, OSError) as error:
        print(error, file=sys.stderr)
        return 2
    changes = diff_inventories(old, new)
    if args.format == "json":
        print(json.dumps(as_json(changes), indent=2, ensure_ascii=False))
    else:
        print(format_text(changes) if changes else summary(changes))
    return 1 if changes else 0
