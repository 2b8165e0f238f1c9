"""`sigap-webhook`: serve, or administer (db upgrade, user add, token create)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import select

from exporter.cli import parse_listen_address
from exporter.logfmt import setup_logging
from webhook.core.workflow import Role
from webhook.settings import Settings, SettingsError, load_settings
from webhook.store.database import Database
from webhook.store.models import ApiToken, User
from webhook.store.queries import user_by_name
from webhook.web.app import create_app
from webhook.web.auth import hash_password, hash_token, new_api_token

DEFAULT_LISTEN = ":9428"
ADMIN_ROLES = [r.value for r in Role if r is not Role.SYSTEM]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sigap-webhook",
        description="SIGAP's Alertmanager receiver and incident record.",
        epilog="Settings: SIGAP_DATABASE_URL, SIGAP_ALERTMANAGER_TOKEN, SIGAP_SECRET_KEY, "
        "SIGAP_INVENTORY, SIGAP_ALERTMANAGER_URL, ... (see README); they win over --config.file.",
    )
    parser.add_argument("--config.file", dest="config_file", help="optional YAML settings file")
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
    add = user.add_parser("add", help="add or update a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ADMIN_ROLES)
    add.add_argument("--skpd", action="append", default=[], help="SKPD id (skpd_admin; repeat)")
    add.add_argument("--email")
    add.add_argument("--phone")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    token = commands.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", help="print a new bearer token for NAME")
    create.add_argument("name")
    return parser


async def _upgrade(settings: Settings) -> None:
    database = Database(settings.database_url, settings.database_timeout)
    try:
        await database.upgrade()
    finally:
        await database.close()


async def _user_add(settings: Settings, args: argparse.Namespace, password: str | None) -> str:
    if args.role == Role.SKPD_ADMIN and not args.skpd:
        raise SystemExit("user add: an skpd_admin needs at least one --skpd ID")
    database = Database(settings.database_url, settings.database_timeout)
    try:
        await database.upgrade()
        async with database.write() as session:
            user = await user_by_name(session, args.name)
            verb = "updated"
            if user is None:
                user = User(name=args.name, created_at=datetime.now(UTC))
                session.add(user)
                verb = "added"
            user.role, user.skpds, user.active = args.role, list(args.skpd), True
            user.email = args.email or user.email
            user.phone = args.phone or user.phone
            if password is not None:
                user.password_hash = hash_password(password)
        return f"user {args.name} {verb} ({args.role})"
    finally:
        await database.close()


async def _token_create(settings: Settings, name: str) -> str:
    database = Database(settings.database_url, settings.database_timeout)
    try:
        await database.upgrade()
        async with database.write() as session:
            user = (
                await session.execute(select(User).where(User.name == name))
            ).scalar_one_or_none()
            if user is None:
                raise SystemExit(f"token create: no user {name!r}; add one with 'user add'")
            token = new_api_token()
            session.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=hash_token(token),
                    created_at=datetime.now(UTC),
                    active=True,
                )
            )
        return token
    finally:
        await database.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    try:
        settings = load_settings(args.config_file)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 1
    if args.command == "db":
        asyncio.run(_upgrade(settings))
        print("database schema is up to date")
        return 0
    if args.command == "user":
        password = None
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                print("user add: empty password on standard input", file=sys.stderr)
                return 1
        print(asyncio.run(_user_add(settings, args, password)))
        return 0
    if args.command == "token":
        print(asyncio.run(_token_create(settings, args.name)))
        return 0
    try:
        host, port = parse_listen_address(args.listen)
    except ValueError as error:
        parser.error(str(error))
    app = create_app(settings)
    app.on_startup.append(_freeze_startup)  # after the cleanup contexts' start-up
    web.run_app(app, host=host, port=port, reuse_port=args.reuse_port, print=None, access_log=None)
    return 0


async def _freeze_startup(app: web.Application) -> None:
    """What start-up made (modules, the app, the engines) lives as long as the process: keep it
    out of the garbage collector's full passes, each of which stalled every request ~60 ms."""
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
