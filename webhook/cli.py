"""`sigap-webhook`: serve, or administer (db upgrade; user add / disable / enable; token create /
list / revoke; roster set / override / show). Every administrative change is logged (logger
`sigap.access`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from aiohttp import web

from exporter.flags import parse_listen_address
from exporter.inventory import Inventory, InventoryError, load_inventory
from exporter.logfmt import setup_logging
from webhook import __version__
from webhook.core import phones
from webhook.core.refusals import Refused
from webhook.core.roster import REASONS, SHIFT_DAYS, shift_name
from webhook.services.silences import Silences
from webhook.settings import Settings, SettingsError, load_settings
from webhook.store.database import Database
from webhook.usecases import chat, maintenance, roster, users
from webhook.usecases.context import Actor, Resources
from webhook.usecases.users import PERSON_ROLES
from webhook.web.app import create_app

log = logging.getLogger("sigap.access")
DEFAULT_LISTEN = ":9428"
OPERATOR = Actor.operator()
"""Whoever runs the command at the server's shell: what a coordinator may do."""
DEFAULT_TOKEN_LIFETIME = "90d"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigap-webhook",
        description="SIGAP's Alertmanager receiver and incident record.",
        epilog="Settings: SIGAP_DATABASE_URL, SIGAP_ALERTMANAGER_TOKEN, SIGAP_SECRET_KEY, "
        "SIGAP_INVENTORY, SIGAP_ALERTMANAGER_URL, ... (see README); they win over --config.file.",
    )
    parser.add_argument("--version", action="version", version=f"sigap-webhook {__version__}")
    parser.add_argument("--config.file", dest="config_file", help="optional YAML settings file")
    parser.add_argument(
        "--config.check",
        dest="config_check",
        action="store_true",
        help="validate the settings (file and SIGAP_* variables) and the inventory, and exit "
        "(0 valid, 1 invalid)",
    )
    parser.add_argument("--web.listen-address", dest="listen", default=DEFAULT_LISTEN)
    parser.add_argument(
        "--web.reuse-port",
        dest="reuse_port",
        action="store_true",
        help="let replicas on one host share the listen address (SO_REUSEPORT: the kernel "
        "spreads connections over the live ones)",
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
    commands = parser.add_subparsers(dest="command")
    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply the Alembic migrations up to the newest")
    user = commands.add_parser("user", help="people").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser(
        "add", help="add or update a user (a new password ends the user's web sessions)"
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=PERSON_ROLES)
    add.add_argument("--skpd", action="append", default=[], help="SKPD id (skpd_admin; repeat)")
    add.add_argument("--email")
    add.add_argument("--phone")
    add.add_argument("--full-name", help="the name written under a signature on F-01 and F-04")
    add.add_argument("--nip", help="NIP, 18 digits (spaces allowed), printed under the name")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    disable = user.add_parser(
        "disable", help="a leaver: no login, web sessions ended, API tokens revoked"
    )
    disable.add_argument("name")
    enable = user.add_parser("enable", help="allow logins again (revoked tokens stay revoked)")
    enable.add_argument("name")
    user.add_parser("list", help="every user: name, role, SKPDs, active or disabled")
    token = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", help="print a new bearer token for NAME")
    create.add_argument("name")
    create.add_argument(
        "--expires",
        default=DEFAULT_TOKEN_LIFETIME,
        type=_lifetime,
        help=f"how long it works: 90d, 12h or never (default {DEFAULT_TOKEN_LIFETIME})",
    )
    listing = token.add_parser("list", help="list API tokens (never their secret)")
    listing.add_argument("name", nargs="?")
    revoke = token.add_parser("revoke", help="revoke NAME's tokens (all, or --id ID)")
    revoke.add_argument("name")
    revoke.add_argument("--id", type=int, dest="token_id")
    maintenance = commands.add_parser("maintenance", help="maintenance windows").add_subparsers(
        dest="maintenance_command", required=True
    )
    plan = maintenance.add_parser(
        "add", help="plan a window on SKPD (times without offset: SIGAP_TIMEZONE)"
    )
    plan.add_argument("skpd")
    plan.add_argument("--start", required=True, help="e.g. 2026-11-03T22:00")
    plan.add_argument("--end", required=True, help="e.g. 2026-11-04T02:00")
    plan.add_argument("--reason", required=True)
    plan.add_argument("--node", action="append", default=[], help="only this node (repeatable)")
    plan.add_argument("--by", default="cli", help="who planned it (default: cli)")
    maintenance.add_parser("list", help="current and upcoming windows")
    cancel = maintenance.add_parser("cancel", help="cancel window ID (its silences expire)")
    cancel.add_argument("id", type=int)
    duty = commands.add_parser("roster", help="the duty roster (jadwal piket)").add_subparsers(
        dest="roster_command", required=True
    )
    rotation = duty.add_parser("set", help="put a rotation in force: NAMEs in order of duty")
    rotation.add_argument("names", nargs="+", metavar="NAME")
    rotation.add_argument("--shift", choices=list(SHIFT_DAYS), default="daily")
    rotation.add_argument("--handover", default="07:30", help="local time HH:MM (default 07:30)")
    rotation.add_argument(
        "--from", dest="starts_on", help="local date of NAME 1's first shift (default: today)"
    )
    override = duty.add_parser("override", help="a swap (NAME covers) or leave (NAME is off)")
    override.add_argument("name")
    override.add_argument("--start", required=True, help="local time, e.g. '2026-11-24 07:30'")
    override.add_argument("--end", required=True, help="local time")
    override.add_argument("--reason", choices=list(REASONS), default="swap")
    show = duty.add_parser("show", help="who is on duty now, next, and the coming shifts")
    show.add_argument("--days", type=int, default=7)
    group = commands.add_parser(
        "telegram-group", help="Telegram group chats: the NOC's, an SKPD's own"
    ).add_subparsers(dest="telegram-group_command", required=True)
    put = group.add_parser("set", help="CHAT_ID (negative) becomes the group of SCOPE")
    put.add_argument("chat_id", type=int, metavar="CHAT_ID")
    put.add_argument("scope", metavar="SCOPE", help="noc (every new outage) or an SKPD's id")
    put.add_argument("--title", default="", help="the group's name, as a reminder")
    unset = group.add_parser("unset", help="CHAT_ID gets SIGAP's messages no more")
    unset.add_argument("chat_id", type=int, metavar="CHAT_ID")
    group.add_parser("list", help="the groups set: scope, chat id, title, who set it")
    return parser


def _lifetime(text: str) -> timedelta | None:
    """`90d`, `12h` or `never` (None)."""
    if text == "never":
        return None
    match = re.fullmatch(r"([1-9][0-9]{0,4})([dh])", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r}: expected e.g. 90d, 12h or never")
    amount = int(match[1])
    return timedelta(days=amount) if match[2] == "d" else timedelta(hours=amount)


async def _upgrade(settings: Settings) -> None:
    database = Database(settings.database_url, settings.database_timeout)
    try:
        await database.upgrade()
    finally:
        await database.close()


@asynccontextmanager
async def _resources(settings: Settings) -> AsyncIterator[Resources]:
    """The use cases' resources for one command: the database (schema upgraded first), the
    inventory, the silences of maintenance; the wall clock."""
    inventory = _inventory(settings)
    database = Database(settings.database_url, settings.database_timeout)
    try:
        await database.upgrade()
        yield Resources(
            database, settings, inventory, Silences(database, settings.alertmanager_urls)
        )
    finally:
        await database.close()


def _inventory(settings: Settings) -> Inventory | None:
    if not settings.inventory:
        return None
    try:
        return load_inventory(settings.inventory)
    except InventoryError as error:
        raise SystemExit(f"SIGAP_INVENTORY: {error}") from None


def _minute(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if moment is not None else "-"


async def _user(res: Resources, args: argparse.Namespace, password: str | None) -> str:
    if args.user_command == "add":
        change = users.UserChange(
            args.name, args.role, tuple(args.skpd), args.email, args.phone, args.full_name,
            args.nip, password,
        )  # fmt: skip
        saved = await users.save_user(res, OPERATOR, change)
        note = f"; {saved.sessions_ended} web session(s) ended" if saved.sessions_ended else ""
        verb = "added" if saved.added else "updated"
        return f"user {args.name} {verb} ({args.role}){note}"
    if args.user_command == "list":
        lines = ["NAME\tROLE\tSKPD\tSTATE\tFULL NAME"]
        for u in await users.list_users(res, OPERATOR):
            state = "active" if u.active else "disabled"
            skpds = ",".join(u.skpds) or "-"
            lines.append(f"{u.name}\t{u.role}\t{skpds}\t{state}\t{u.full_name or '-'}")
        return "\n".join(lines)
    active = args.user_command == "enable"
    ended, tokens = await users.set_active(res, OPERATOR, args.name, active)
    if active:
        return f"user {args.name} enabled (create new API tokens if needed)"
    return f"user {args.name} disabled; {ended} web session(s) ended, {tokens} token(s) revoked"


async def _token(res: Resources, args: argparse.Namespace) -> str:
    if args.token_command == "create":
        return (await users.create_token(res, OPERATOR, args.name, args.expires))[1]
    if args.token_command == "revoke":
        revoked = await users.revoke_tokens(res, OPERATOR, args.name, args.token_id)
        return f"{len(revoked)} token(s) of {args.name} revoked"
    now = res.clock()
    lines = ["ID\tUSER\tSTATE\tCREATED\tEXPIRES\tLAST USED"]
    for row, owner in await users.list_tokens(res, OPERATOR, args.name):
        expires = _minute(row.expires_at) if row.expires_at else "never"
        lines.append(
            f"{row.id}\t{owner}\t{users.token_state(row, now)}\t{_minute(row.created_at)}"
            f"\t{expires}\t{_minute(row.last_used_at)}"
        )
    return "\n".join(lines)


async def _maintenance(res: Resources, args: argparse.Namespace) -> str:
    """`maintenance add/list/cancel`: the same rules and silences as the page and the API."""
    if args.maintenance_command == "list":
        lines = ["ID\tSKPD\tNODES\tSTART\tEND\tSILENCE\tREASON"]
        for r in await maintenance.plans(res, OPERATOR):
            when = [
                t.astimezone(res.zone).strftime("%Y-%m-%dT%H:%M%z")
                for t in (r.starts_at, r.ends_at)
            ]
            nodes = ",".join(r.nodes) or "-"
            state = maintenance.silence_state(res, r)
            lines.append(f"{r.id}\t{r.skpd}\t{nodes}\t{when[0]}\t{when[1]}\t{state}\t{r.reason}")
        return "\n".join(lines)
    if args.maintenance_command == "add":
        data = {
            "skpd": args.skpd,
            "nodes": args.node,
            "starts_at": args.start,
            "ends_at": args.end,
            "reason": args.reason,
        }
        row, error = await maintenance.save_plan(res, Actor.operator(args.by), data)
        done = "planned"
    else:
        row, error = await maintenance.cancel_plan(res, OPERATOR, args.id)
        done = "cancelled"
    return f"maintenance window {row.id} {done}" + (
        f"; silence not in place yet ({error}): the service retries" if error else ""
    )


async def _roster(res: Resources, args: argparse.Namespace) -> str:
    """`roster set | override | show`, times in the regency's zone (settings.timezone)."""
    if args.roster_command == "set":
        await roster.put_rotation(
            res, OPERATOR, args.names, args.shift, args.handover, args.starts_on
        )
    elif args.roster_command == "override":
        await roster.put_override(res, OPERATOR, args.name, args.start, args.end, args.reason)
    view = await roster.roster_view(res, timedelta(days=getattr(args, "days", 7)))
    duty, rotation = view.duty, view.rotation

    def local(moment: datetime) -> str:
        return moment.astimezone(res.zone).strftime("%Y-%m-%d %H:%M")

    lines = [
        f"on duty now: {', '.join(duty.now) or '-'}",
        f"next: {', '.join(duty.next) or '-'}"
        + (f" from {local(duty.next_from)}" if duty.next_from else ""),
    ]
    if rotation is not None:
        lines.append(
            f"rotation: {', '.join(rotation.people)}; {shift_name(rotation)} shifts, "
            f"handover {rotation.handover:%H:%M} ({res.settings.timezone}), "
            f"from {rotation.starts_on}"
        )
    lines += [
        f"{local(start)} - {local(end)}\t{', '.join(people)}" for start, end, people in view.periods
    ]
    return "\n".join(lines)


async def _telegram_group(res: Resources, args: argparse.Namespace) -> str:
    """`telegram-group set | unset | list`: what a coordinator's `/grup` does in the group."""
    word = getattr(args, "telegram-group_command")
    if word == "list":
        lines = ["SCOPE\tCHAT_ID\tTITLE\tSET_BY"]
        lines += [
            f"{g.scope}\t{g.chat_id}\t{g.title or '-'}\t{g.set_by}" for g in await chat.groups(res)
        ]
        return "\n".join(lines)
    scope = args.scope if word == "set" else chat.UNSET
    title = getattr(args, "title", "")
    return await chat.set_group(res, OPERATOR, args.chat_id, scope, title, "en")


COMMANDS: dict[str, Callable[[Resources, argparse.Namespace], Awaitable[str]]] = {
    "token": _token,
    "maintenance": _maintenance,
    "roster": _roster,
    "telegram-group": _telegram_group,
}


async def _administer(settings: Settings, args: argparse.Namespace, password: str | None) -> str:
    async with _resources(settings) as res:
        if args.command == "user":
            return await _user(res, args, password)
        return await COMMANDS[args.command](res, args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    try:
        settings = load_settings(args.config_file)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 1
    if args.config_check:
        return _check(settings, args)
    if args.command == "db":
        asyncio.run(_upgrade(settings))
        print("database schema is up to date")
        return 0
    if args.command is not None:
        password = None
        if getattr(args, "password_stdin", False):
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                print("user add: empty password on standard input", file=sys.stderr)
                return 1
        try:
            print(asyncio.run(_administer(settings, args, password)))
        except Refused as refused:
            raise SystemExit(f"{_command_words(args)}: {_in_flags(refused)}") from None
        return 0
    try:
        host, port = parse_listen_address(args.listen)
    except ValueError as error:
        parser.error(str(error))
    app = create_app(settings)
    app.on_startup.append(_freeze_startup)  # after the cleanup contexts' start-up
    web.run_app(app, host=host, port=port, reuse_port=args.reuse_port, print=None, access_log=None)
    return 0


FLAGS = {"name": "NAME", "role": "--role", "skpd": "--skpd", "nip": "--nip",
         "full_name": "--full-name", "phone": "--phone", "scope": "SCOPE",
         "chat_id": "CHAT_ID"}  # fmt: skip
"""A refused input's name in the use cases -> the command's word for it."""


def _in_flags(refused: Refused) -> str:
    if refused.field in FLAGS:
        return f"{FLAGS[refused.field]}: {refused.message}"
    return refused.reason


def _command_words(args: argparse.Namespace) -> str:
    """`user add`, `maintenance cancel`...: what a refusal's message starts with."""
    return f"{args.command} {getattr(args, f'{args.command}_command')}"


def _check(settings: Settings, args: argparse.Namespace) -> int:
    """`--config.check`: what would stop the service from starting, said before it starts."""
    try:
        parse_listen_address(args.listen)
        inventory = load_inventory(settings.inventory) if settings.inventory else None
    except (ValueError, InventoryError) as error:
        print(error, file=sys.stderr)
        return 1
    where = args.config_file or "the environment"
    contacts = {s.id: s.contacts for s in inventory.skpds.values()} if inventory else {}
    for problem in phones.unreadable(contacts):
        print(
            f"warning: {settings.inventory}: {problem}; WhatsApp cannot reach it", file=sys.stderr
        )
    found = f"; inventory {settings.inventory}: {len(inventory.skpds)} SKPDs" if inventory else ""
    print(f"{where}: valid{found}")
    return 0


GC_YOUNG_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation (Python's default: 700). A
storm allocates a few hundred objects per alert, nearly all freed by reference counting;
collecting every 700 cost ~7 % of the receiver's time (benchmarks/bench_webhook.py)."""


async def _freeze_startup(app: web.Application) -> None:
    """What start-up made (modules, the app, the engines) lives as long as the process: keep it
    out of the garbage collector's full passes, each of which stalled every request ~60 ms;
    and collect the young generation less often (`GC_YOUNG_THRESHOLD`)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


if __name__ == "__main__":
    sys.exit(main())
