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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exporter.flags import parse_listen_address
from exporter.inventory import Inventory, InventoryError, load_inventory
from exporter.logfmt import setup_logging
from webhook.core.documents import checked_nip
from webhook.core.maintenance import PlanInvalid, sync_state
from webhook.core.roster import (
    REASONS,
    SHIFT_DAYS,
    Override,
    Reason,
    RosterInvalid,
    duty_periods,
    parse_local,
    parse_rotation,
    shift_name,
    shift_start,
)
from webhook.core.workflow import Role
from webhook.services.paging import add_override, duty_at, load_roster, set_rotation
from webhook.services.silences import Silences
from webhook.settings import Settings, SettingsError, load_settings
from webhook.store.database import Database
from webhook.store.maintenance import add_plan, cancel_plan, current_and_upcoming
from webhook.store.models import ApiToken, Maintenance, User
from webhook.store.queries import user_by_name
from webhook.web.app import create_app
from webhook.web.auth import (
    disable_user,
    end_sessions,
    hash_password,
    hash_token,
    new_api_token,
    revoke_tokens,
    user_named_alike,
)
from webhook.web.inventory_check import UnknownId, check_skpd
from webhook.web.maintenance import checked_plan

log = logging.getLogger("sigap.access")
DEFAULT_LISTEN = ":9428"
ADMIN_ROLES = [r.value for r in Role if r is not Role.SYSTEM]
DEFAULT_TOKEN_LIFETIME = "90d"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigap-webhook",
        description="SIGAP's Alertmanager receiver and incident record.",
        epilog="Settings: SIGAP_DATABASE_URL, SIGAP_ALERTMANAGER_TOKEN, SIGAP_SECRET_KEY, "
        "SIGAP_INVENTORY, SIGAP_ALERTMANAGER_URL, ... (see README); they win over --config.file.",
    )
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
    add.add_argument("--role", required=True, choices=ADMIN_ROLES)
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
async def _database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url, settings.database_timeout)
    try:
        await database.upgrade()
        yield database
    finally:
        await database.close()


async def _named(session: AsyncSession, command: str, name: str) -> User:
    user = await user_by_name(session, name)
    if user is None:
        raise SystemExit(f"{command}: no user {name!r}; add one with 'user add'")
    return user


async def _user_add(settings: Settings, args: argparse.Namespace, password: str | None) -> str:
    if args.role == Role.SKPD_ADMIN and not args.skpd:
        raise SystemExit("user add: an skpd_admin needs at least one --skpd ID")
    if args.name != args.name.strip() or not args.name or len(args.name) > 100:
        raise SystemExit("user add: a name has no surrounding spaces and ≤ 100 characters")
    inventory = _inventory(settings)
    try:
        skpds = [check_skpd(inventory, skpd) for skpd in args.skpd]
    except UnknownId as error:
        raise SystemExit(f"user add: --skpd {error}") from None
    try:
        nip = checked_nip(args.nip) if args.nip else None
    except ValueError as error:
        raise SystemExit(f"user add: --nip {error}") from None
    full_name = args.full_name.strip() if args.full_name else None
    if full_name is not None and not 0 < len(full_name) <= 200:
        raise SystemExit("user add: --full-name has 1 to 200 characters")
    password_hash = hash_password(password) if password is not None else None
    now = datetime.now(UTC)
    async with _database(settings) as database, database.write() as session:
        alike = await user_named_alike(session, args.name)
        if alike is not None and alike.name != args.name:
            raise SystemExit(
                f"user add: {alike.name!r} exists; names that differ only by case are one "
                "person to the login"
            )
        user, verb = alike, "updated"
        if user is None:
            user, verb = User(name=args.name, created_at=now), "added"
            session.add(user)
        user.role, user.skpds, user.active = args.role, skpds, True
        user.email = args.email or user.email
        user.phone = args.phone or user.phone
        user.full_name = full_name or user.full_name
        user.nip = nip or user.nip
        ended = 0
        if password_hash is not None:
            user.password_hash = password_hash
            if verb == "updated":
                ended = await end_sessions(session, user.id, now)
    log.info(
        f"user {verb}",
        extra={"user": args.name, "role": args.role, "password_changed": password is not None},
    )
    note = f"; {ended} web session(s) ended" if ended else ""
    return f"user {args.name} {verb} ({args.role}){note}"


def _inventory(settings: Settings) -> Inventory | None:
    if not settings.inventory:
        return None
    try:
        return load_inventory(settings.inventory)
    except InventoryError as error:
        raise SystemExit(f"SIGAP_INVENTORY: {error}") from None


async def _user_active(settings: Settings, name: str, active: bool) -> str:
    now = datetime.now(UTC)
    command = "user enable" if active else "user disable"
    async with _database(settings) as database, database.write() as session:
        user = await _named(session, command, name)
        if active:
            user.active = True
        else:
            ended, revoked = await disable_user(session, user, now)
    if active:
        log.info("user enabled", extra={"user": name})
        return f"user {name} enabled (create new API tokens if needed)"
    log.info("user disabled", extra={"user": name, "sessions": ended, "tokens": len(revoked)})
    return f"user {name} disabled; {ended} web session(s) ended, {len(revoked)} token(s) revoked"


async def _token_create(settings: Settings, name: str, lifetime: timedelta | None) -> str:
    now = datetime.now(UTC)
    token = new_api_token()
    async with _database(settings) as database, database.write() as session:
        user = await _named(session, "token create", name)
        if not user.active:
            raise SystemExit(f"token create: {name} is disabled; 'user enable {name}' first")
        row = ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            active=True,
            expires_at=now + lifetime if lifetime is not None else None,
        )
        session.add(row)
        await session.flush()
    log.info("token created", extra={"user": name, "token_id": row.id, "expires": _when(row)})
    return token


def _when(row: ApiToken) -> str:
    return row.expires_at.strftime("%Y-%m-%dT%H:%MZ") if row.expires_at else "never"


async def _token_list(settings: Settings, name: str | None) -> str:
    now = datetime.now(UTC)
    async with _database(settings) as database, database.read() as session:
        query = select(ApiToken, User.name).join(User, ApiToken.user_id == User.id)
        if name is not None:
            query = query.where(User.id == (await _named(session, "token list", name)).id)
        rows = (await session.execute(query.order_by(User.name, ApiToken.id))).all()
    lines = ["ID\tUSER\tSTATE\tCREATED\tEXPIRES\tLAST USED"]
    for token, owner in rows:
        state = (
            "revoked"
            if not token.active
            else "expired"
            if token.expires_at is not None and token.expires_at <= now
            else "active"
        )
        used = token.last_used_at.strftime("%Y-%m-%dT%H:%MZ") if token.last_used_at else "-"
        created = token.created_at.strftime("%Y-%m-%dT%H:%MZ")
        lines.append(f"{token.id}\t{owner}\t{state}\t{created}\t{_when(token)}\t{used}")
    return "\n".join(lines)


async def _token_revoke(settings: Settings, name: str, token_id: int | None) -> str:
    async with _database(settings) as database, database.write() as session:
        user = await _named(session, "token revoke", name)
        revoked = await revoke_tokens(session, user.id, token_id)
    if token_id is not None and not revoked:
        raise SystemExit(f"token revoke: {name} has no active token {token_id}")
    log.info("tokens revoked", extra={"user": name, "token_ids": ",".join(map(str, revoked))})
    return f"{len(revoked)} token(s) of {name} revoked"


async def _maintenance(settings: Settings, args: argparse.Namespace) -> str:
    """`maintenance add/list/cancel`: the same rules and silences as the page and the API."""
    now = datetime.now(UTC)
    zone = ZoneInfo(settings.timezone)
    async with _database(settings) as database:
        silences = Silences(database, settings.alertmanager_urls)
        if args.maintenance_command == "list":
            async with database.read() as session:
                rows = await current_and_upcoming(session, now)
            lines = ["ID\tSKPD\tNODES\tSTART\tEND\tSILENCE\tREASON"]
            for r in rows:
                state = sync_state(r.revision, r.synced_revision, r.sync_error, len(silences.urls))
                when = [
                    t.astimezone(zone).strftime("%Y-%m-%dT%H:%M%z")
                    for t in (r.starts_at, r.ends_at)
                ]
                nodes = ",".join(r.nodes) or "-"
                lines.append(
                    f"{r.id}\t{r.skpd}\t{nodes}\t{when[0]}\t{when[1]}\t{state}\t{r.reason}"
                )
            return "\n".join(lines)
        async with database.write() as session:
            if args.maintenance_command == "add":
                data = {
                    "skpd": args.skpd,
                    "nodes": args.node,
                    "starts_at": args.start,
                    "ends_at": args.end,
                    "reason": args.reason,
                }
                plan = checked_plan(_inventory(settings), zone, data, None, now)
                row = add_plan(session, plan, args.by, now)
            else:
                found = await session.get(Maintenance, args.id)
                if found is None or found.cancelled_at is not None or found.ends_at <= now:
                    raise SystemExit(f"maintenance cancel: no running or upcoming window {args.id}")
                row = found
                cancel_plan(row, now)
            await session.flush()
            plan_id = row.id
        error = await silences.sync(plan_id, now)
    log.info("maintenance " + args.maintenance_command, extra={"plan": plan_id})
    done = "planned" if args.maintenance_command == "add" else "cancelled"
    return f"maintenance window {plan_id} {done}" + (
        f"; silence not in place yet ({error}): the service retries" if error else ""
    )


async def _roster(settings: Settings, args: argparse.Namespace) -> str:
    """`roster set | override | show`, times in the regency's zone (settings.timezone)."""
    zone = ZoneInfo(settings.timezone)
    now = datetime.now(UTC)
    command = f"roster {args.roster_command}"
    try:
        async with _database(settings) as database:
            if args.roster_command == "set":
                starts_on = args.starts_on or now.astimezone(zone).date().isoformat()
                rotation = parse_rotation(args.names, args.shift, args.handover, starts_on)
                async with database.write() as session:
                    await set_rotation(session, rotation, "cli", now)
                log.info("roster set", extra={"people": ",".join(rotation.people)})
            elif args.roster_command == "override":
                start = parse_local(args.start, zone, "--start")
                end = parse_local(args.end, zone, "--end")
                reason: Reason = "swap" if args.reason == "swap" else "leave"
                async with database.write() as session:
                    await add_override(session, Override(args.name, start, end, reason), "cli", now)
                log.info("roster override", extra={"user": args.name, "reason": reason})
            async with database.read() as session:
                duty = await duty_at(session, zone, now)
                rotation_now, overrides = await load_roster(session, now)
    except RosterInvalid as invalid:
        raise SystemExit(f"{command}: {invalid}") from None

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    lines = [
        f"on duty now: {', '.join(duty.now) or '-'}",
        f"next: {', '.join(duty.next) or '-'}"
        + (f" from {local(duty.next_from)}" if duty.next_from else ""),
    ]
    if rotation_now is not None:
        lines.append(
            f"rotation: {', '.join(rotation_now.people)}; {shift_name(rotation_now)} shifts, "
            f"handover {rotation_now.handover:%H:%M} ({settings.timezone}), "
            f"from {rotation_now.starts_on}"
        )
    days = getattr(args, "days", 7)
    since = shift_start(rotation_now, now, zone)
    for start, end, people in duty_periods(
        rotation_now, overrides, since, now + timedelta(days=days), zone
    ):
        lines.append(f"{local(start)} - {local(end)}\t{', '.join(people)}")
    return "\n".join(lines)


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
    if args.command == "user" and args.user_command == "add":
        password = None
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                print("user add: empty password on standard input", file=sys.stderr)
                return 1
        print(asyncio.run(_user_add(settings, args, password)))
        return 0
    if args.command == "user":
        print(asyncio.run(_user_active(settings, args.name, args.user_command == "enable")))
        return 0
    if args.command == "token":
        commands = {
            "create": lambda: _token_create(settings, args.name, args.expires),
            "list": lambda: _token_list(settings, args.name),
            "revoke": lambda: _token_revoke(settings, args.name, args.token_id),
        }
        print(asyncio.run(commands[args.token_command]()))
        return 0
    if args.command == "maintenance":
        try:
            print(asyncio.run(_maintenance(settings, args)))
        except (PlanInvalid, UnknownId) as error:
            print(f"maintenance {args.maintenance_command}: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "roster":
        print(asyncio.run(_roster(settings, args)))
        return 0
    try:
        host, port = parse_listen_address(args.listen)
    except ValueError as error:
        parser.error(str(error))
    app = create_app(settings)
    app.on_startup.append(_freeze_startup)  # after the cleanup contexts' start-up
    web.run_app(app, host=host, port=port, reuse_port=args.reuse_port, print=None, access_log=None)
    return 0


def _check(settings: Settings, args: argparse.Namespace) -> int:
    """`--config.check`: what would stop the service from starting, said before it starts."""
    try:
        parse_listen_address(args.listen)
        inventory = load_inventory(settings.inventory) if settings.inventory else None
    except (ValueError, InventoryError) as error:
        print(error, file=sys.stderr)
        return 1
    where = args.config_file or "the environment"
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
