"""The webhook's settings: an optional YAML file, overridden by `SIGAP_*` environment variables.

`load_settings()` returns a frozen `Settings` or raises `SettingsError`, one readable line per
problem naming where the value came from (the file and key, or the variable). The service starts
with no file at all: every setting has a default that works on one machine.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from PIL import Image
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from exporter.inventory import Duration, YamlLines, format_path
from webhook.core.deadlines import targets_of
from webhook.core.documents import DEFAULT_PLACE
from webhook.core.letterhead import DEFAULT_LETTERHEAD, Letterhead, LetterheadConfig
from webhook.core.messages import NotifyConfig
from webhook.core.photos import PhotoConfig
from webhook.core.retention import RetentionConfig
from webhook.core.roster import PagingConfig
from webhook.core.workflow import State

DEFAULT_DATABASE_URL = "sqlite:///sigap.db"

# Environment variable -> key of the YAML file (and of `Settings`).
ENVIRONMENT = {
    "SIGAP_DATABASE_URL": "database_url",
    "SIGAP_DATABASE_PASSWORD": "database_password",
    "SIGAP_ALERTMANAGER_TOKEN": "alertmanager_token",
    "SIGAP_SECRET_KEY": "secret_key",
    "SIGAP_INVENTORY": "inventory",
    "SIGAP_ALERTMANAGER_URL": "alertmanager_url",
    "SIGAP_PROMETHEUS_URL": "prometheus_url",
    "SIGAP_EXTERNAL_URL": "external_url",
    "SIGAP_TRANSIENT_WINDOW": "transient_window",
    "SIGAP_REOPEN_WINDOW": "reopen_window",
    "SIGAP_RECONCILE_INTERVAL": "reconcile_interval",
    "SIGAP_PING_CHECK": "ping_check",
    "SIGAP_PING_PRIVILEGED": "ping_privileged",
    "SIGAP_PING_COUNT": "ping_count",
    "SIGAP_PING_TIMEOUT": "ping_timeout",
    "SIGAP_PING_CONCURRENCY": "ping_concurrency",
    "SIGAP_DATABASE_TIMEOUT": "database_timeout",
    "SIGAP_BODY_TIMEOUT": "body_timeout",
    "SIGAP_TIMEZONE": "timezone",
    "SIGAP_DOCUMENT_PLACE": "document_place",
    "SIGAP_TRUSTED_PROXIES": "trusted_proxies",
    "SIGAP_SESSION_IDLE_TIMEOUT": "session_idle_timeout",
    "SIGAP_SESSION_LIFETIME": "session_lifetime",
    "SIGAP_STATUS_PAGE": "status_page",
    "SIGAP_STATUS_NETWORKS": "status_networks",
    "SIGAP_STATUS_INTERVAL": "status_interval",
    "SIGAP_TELEGRAM_BOT_TOKEN": "telegram_bot_token",
    "SIGAP_TELEGRAM_API_URL": "telegram_api_url",
    "SIGAP_TELEGRAM_WEBHOOK_SECRET": "telegram_webhook_secret",
    "SIGAP_WHATSAPP_TOKEN": "whatsapp_token",
    "SIGAP_WHATSAPP_PHONE_NUMBER_ID": "whatsapp_phone_number_id",
    "SIGAP_WHATSAPP_APP_SECRET": "whatsapp_app_secret",
    "SIGAP_WHATSAPP_VERIFY_TOKEN": "whatsapp_verify_token",
    "SIGAP_WHATSAPP_API_URL": "whatsapp_api_url",
    "SIGAP_WHATSAPP_API_VERSION": "whatsapp_api_version",
    "SIGAP_WHATSAPP_TEMPLATE": "whatsapp_template",
    "SIGAP_WHATSAPP_TEMPLATE_LANGUAGE": "whatsapp_template_language",
    "SIGAP_GATEWAY_SECRET": "gateway_secret",
}

ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(Exception):
    """Settings that cannot be used; `str()` is one line per problem."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    database_password: str | None = None
    alertmanager_token: str | None = None
    secret_key: str | None = None
    inventory: str | None = None
    alertmanager_url: list[str] = []
    prometheus_url: str | None = None
    external_url: str | None = None
    transient_window: Duration = 300.0
    reopen_window: Duration = 1800.0
    reconcile_interval: Duration = 60.0
    ping_check: bool = True
    ping_privileged: Literal["auto", "true", "false"] = "auto"
    ping_count: int = Field(default=3, ge=1, le=20)
    ping_timeout: Duration = 1.0
    ping_concurrency: int = Field(default=8, ge=1, le=256)
    database_timeout: Duration = 5.0
    body_timeout: Duration = 10.0
    timezone: str = "Asia/Makassar"
    document_place: str = DEFAULT_PLACE
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    escalation: dict[str, Duration] = Field(default_factory=dict)
    paging: PagingConfig = Field(default_factory=PagingConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    letterhead: LetterheadConfig = Field(default_factory=LetterheadConfig)
    photos: PhotoConfig = Field(default_factory=PhotoConfig)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone; expected e.g. Asia/Makassar (WITA)"
            ) from None
        return value

    @field_validator("document_place")
    @classmethod
    def _a_place_name(cls, value: str) -> str:
        """One line above the signatures: `Batulicin, 30 November 2026`."""
        place = value.strip()
        if not place or len(place) > 60 or not place.isprintable():
            raise ValueError(
                f"{value!r} is not a place name; expected one line of at most 60 characters, "
                "e.g. Batulicin"
            )
        return place

    @field_validator("escalation")
    @classmethod
    def _stages(cls, value: dict[str, float]) -> dict[str, float]:
        targets_of(value)  # ValueError naming the stage
        return value

    trusted_proxies: list[str] = Field(default_factory=list)
    session_idle_timeout: Duration = 2 * 3600.0
    session_lifetime: Duration = 12 * 3600.0
    status_page: Literal["public", "intranet", "off"] = "public"
    status_networks: list[str] = Field(default_factory=list)
    status_interval: Duration = 20.0
    telegram_bot_token: str | None = None
    telegram_api_url: str | None = None
    telegram_webhook_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{16,256}$")

    whatsapp_token: str | None = None
    whatsapp_phone_number_id: str | None = Field(default=None, pattern=r"^\d{5,20}$")
    whatsapp_app_secret: str | None = Field(default=None, min_length=16)
    whatsapp_verify_token: str | None = Field(default=None, min_length=8)
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = Field(default="v23.0", pattern=r"^v\d+\.\d+$")
    whatsapp_template: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    whatsapp_template_language: str = Field(default="id", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    gateway_secret: str | None = Field(default=None, min_length=16)

    @model_validator(mode="after")
    def _whatsapp_complete(self) -> Self:
        """The Cloud API needs all four: a token without the app secret would take webhooks
        nobody can tell from forged ones."""
        parts = {
            "whatsapp_token": self.whatsapp_token,
            "whatsapp_phone_number_id": self.whatsapp_phone_number_id,
            "whatsapp_app_secret": self.whatsapp_app_secret,
            "whatsapp_verify_token": self.whatsapp_verify_token,
        }
        missing = [key for key, value in parts.items() if not value]
        if missing and len(missing) < len(parts):
            names = {key: name for name, key in ENVIRONMENT.items()}
            raise ValueError(
                "WhatsApp's Cloud API needs all of SIGAP_WHATSAPP_TOKEN, _PHONE_NUMBER_ID, "
                f"_APP_SECRET and _VERIFY_TOKEN; missing: {', '.join(names[k] for k in missing)}"
            )
        return self

    @field_validator("telegram_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        """BotFather's `123456:ABC-...`: a typo is told at start, not at the first page."""
        if value is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", value.strip()):
            raise ValueError(
                "not a bot token; expected the one BotFather gave, e.g. 123456789:AAH...(35 "
                "characters after the colon)"
            )
        return value.strip() if value is not None else None

    @field_validator("trusted_proxies", "status_networks", mode="before")
    @classmethod
    def _address_list(cls, value: object) -> object:
        """`SIGAP_TRUSTED_PROXIES=10.0.0.5, 172.18.0.0/16` or a YAML list."""
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("trusted_proxies", "status_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network; expected e.g. 10.0.0.5 or "
                    "172.18.0.0/16"
                ) from None
        return value

    @field_validator("ping_privileged", mode="before")
    @classmethod
    def _bool_text(cls, value: object) -> object:
        return str(value).lower() if isinstance(value, bool) else value

    @field_validator("alertmanager_url", mode="before")
    @classmethod
    def _url_list(cls, value: object) -> object:
        """One URL, a comma-separated list (the environment) or a YAML list: every
        Alertmanager of a cluster, each asked by the reconciliation."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("alertmanager_url")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        urls = [_http_url(url) for url in value]
        if len(set(urls)) != len(urls):
            raise ValueError(f"{value!r} names an Alertmanager twice")
        return urls

    @field_validator("prometheus_url", "external_url", "telegram_api_url", "whatsapp_api_url")
    @classmethod
    def _one_http_url(cls, value: str | None) -> str | None:
        return _http_url(value) if value is not None else None


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL; expected e.g. http://host:9093")
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    """The SQLAlchemy URL with its async driver (sqlite+aiosqlite, postgresql+asyncpg)."""
    alertmanager_token: str | None
    """Bearer token (or basic-auth password) Alertmanager sends; None: the receiver is open."""
    secret_key: str
    secret_key_generated: bool
    """True when no key was set: signed links and sessions do not survive a restart."""
    inventory: str | None
    alertmanager_urls: tuple[str, ...]
    """The base URL of every Alertmanager (of a cluster), read every `reconcile_interval`; an
    alert is resolved only when none of them holds it. Empty: no reconciliation."""
    prometheus_url: str | None
    """Prometheus' base URL, asked for the monthly report's availability; None: the report
    says availability is unavailable."""
    external_url: str | None
    transient_window: float
    reopen_window: float
    reconcile_interval: float
    ping_check: bool
    ping_privileged: bool | None
    """None: decide from net.ipv4.ping_group_range and the user."""
    ping_count: int
    ping_timeout: float
    database_timeout: float
    """How long a write waits for a locked SQLite file or a PostgreSQL connection before the
    receiver answers 503 (Alertmanager retries; its own webhook timeout is 10 s by default)."""
    body_timeout: float
    """How long a client may take to send a request's body (a weak phone connection): then
    408. Bodies are read before any transaction, so a slow one never holds the writer."""
    trusted_proxies: tuple[ProxyNetwork, ...] = ()
    """The reverse proxies whose X-Forwarded-For / -Proto are believed (no one's by default)."""
    session_idle_timeout: float = 2 * 3600.0
    """A web session unused this long ends."""
    session_lifetime: float = 12 * 3600.0
    """A web session ends this long after the login, used or not."""
    timezone: str = "Asia/Makassar"
    """The regency's time (WITA, UTC+8): what the UI, forms and reports speak."""
    document_place: str = DEFAULT_PLACE
    """Where F-01 and F-04 are signed: the place before the date above the signatures (page,
    PDF and emailed attachment alike)."""
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    """Who is told what, and over which channels (`webhook.core.messages`)."""
    escalation: Mapping[State, timedelta] = field(default_factory=lambda: targets_of({}))
    """Each open stage's target time (`webhook.core.deadlines`)."""
    ping_concurrency: int = 8
    """Incidents ping-checked at a time (the rest wait in the checker's queue)."""
    paging: PagingConfig = field(default_factory=PagingConfig)
    """The page of the staff on duty and its escalation chain (`webhook.core.roster`)."""
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    """How long finished rows are kept before the leader prunes them (`webhook.core.retention`)."""
    status_page: Literal["public", "intranet", "off"] = "public"
    """Who sees /status: anyone, only clients from `status_networks`, or no one (404)."""
    status_networks: tuple[ProxyNetwork, ...] = ()
    """The intranet's networks, for `status_page: intranet`."""
    status_interval: float = 20.0
    """How old the status page's figures may get: one gathering per interval."""
    telegram_bot_token: str | None = None
    """The installation's bot (BotFather's token); None: no Telegram."""
    telegram_api_url: str | None = None
    """A self-hosted Bot API server's base URL; None: Telegram's own."""
    telegram_webhook_secret: str | None = None
    """Set: Telegram posts updates to `/telegram/webhook` with this secret in the header
    `X-Telegram-Bot-Api-Secret-Token` (no long polling); None: long polling."""
    letterhead: Letterhead = DEFAULT_LETTERHEAD
    """The office's letterhead on every page, PDF and workbook that carries one."""
    photos: PhotoConfig = field(default_factory=PhotoConfig)
    """How many photos an F-04 may carry, and how big (`webhook.core.photos`)."""
    whatsapp: WhatsAppSettings | None = None
    """WhatsApp's Cloud API (`webhook.services.whatsapp`); None: not set up."""
    gateway_secret: str | None = None
    """Set: the generic gateway's replies come to `POST /gateway/incoming` with this secret;
    messages to the gateway then carry numbered options. None: no replies by the gateway."""


@dataclass(frozen=True, slots=True)
class WhatsAppSettings:
    """The Cloud API's four credentials (Meta's app dashboard) and where the Graph API is."""

    token: str
    phone_number_id: str
    app_secret: str
    """Signs every webhook Meta posts (`X-Hub-Signature-256`)."""
    verify_token: str
    """What SIGAP expects in `hub.verify_token` when Meta checks the webhook's URL."""
    api_url: str = "https://graph.facebook.com"
    api_version: str = "v23.0"
    template: str | None = None
    """An approved utility template (one body variable) for messages outside WhatsApp's
    24-hour window; None: such a message fails, as Meta refuses it."""
    template_language: str = "id"


def database_url(url: str) -> str:
    """The async-driver URL for a URL as a person writes it (``sqlite:///x.db``, ``postgresql://``)."""
    scheme, sep, rest = url.partition("://")
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }
    if not sep or scheme.lower() not in drivers:
        raise ValueError(
            f"unsupported database URL {url!r}; expected sqlite:///path or "
            "postgresql://user@host/db"
        )
    return f"{drivers[scheme.lower()]}://{rest}"


def with_password(url: str, password: str) -> str:
    """`url` with `password` set for its user, quoted as URLs need: a password kept apart from
    the URL (a compose secret, `SIGAP_DATABASE_PASSWORD_FILE`) may hold any character."""
    try:
        parts = make_url(url)
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL") from None
    if parts.get_backend_name() != "postgresql":
        raise ValueError("a database password is for PostgreSQL; SQLite has none")
    if parts.password is not None:
        raise ValueError("the URL holds a password already: set it in one place")
    if not parts.username:
        raise ValueError(
            f"{url!r} names no user; expected e.g. postgresql://sigap@postgres:5432/sigap"
        )
    return parts.set(password=password).render_as_string(hide_password=False)


SECRETS = (
    ("database_url",),
    ("database_password",),
    ("alertmanager_token",),
    ("secret_key",),
    ("telegram_bot_token",),
    ("telegram_webhook_secret",),
    ("notify", "smtp", "password"),
    ("whatsapp_token",),
    ("whatsapp_app_secret",),
    ("whatsapp_verify_token",),
    ("gateway_secret",),
    ("notify", "webhook", "headers"),
)
"""Settings that may come from a file instead (`SIGAP_SECRET_KEY_FILE`, `secret_key_file:`,
`notify.smtp.password_file:`), as compose and Kubernetes secrets mount them."""
SECRET_MAPPINGS = frozenset({"headers"})
"""Secrets that are mappings: `headers_file:` names a file per entry (a gateway's token header),
and may stand beside `headers:` (the entries that are not secret)."""


def _mapping_read(files: object, given: object, where: str, key: str) -> dict[str, Any]:
    """`headers_file: {Authorization: /run/secrets/token}`: each entry's value read from its
    file, beside the entries written inline (a name in both is refused)."""
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise SettingsError(
            f"{where}: expected a mapping of names to files, e.g. "
            f"'{key}_file: {{Authorization: /run/secrets/gateway_token}}'"
        )
    inline = given if isinstance(given, dict) else {}
    both = sorted(set(inline) & set(files))
    if both:
        raise SettingsError(f"{where}: {', '.join(both)}: set it in {key} or {key}_file, not both")
    read = {name: _secret_file(path, f"{where}.{name}") for name, path in files.items()}
    return {**inline, **read}


def _secret_file(path: str, where: str) -> str:
    """A secret's file, without the trailing newline editors and `echo` add. An empty one is
    refused: it is what compose makes of a secret whose variable is empty, and an empty key or
    token would silently mean "none"."""
    try:
        value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SettingsError(f"{where}: cannot read {path}: {reason or exc}") from exc
    if not value:
        raise SettingsError(f"{where}: {path} is empty; write the secret into it")
    return value


def _from_env(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The settings the environment sets, each also as `NAME_FILE` naming a file to read; and
    for each, the variable it came from."""
    found, source = {}, {}
    for name, key in ENVIRONMENT.items():
        value, path = env.get(name, ""), env.get(f"{name}_FILE", "")
        if value and path:
            raise SettingsError(f"{name}, {name}_FILE: set one of them, not both")
        if path:
            found[key], source[key] = _secret_file(path, f"{name}_FILE"), f"{name}_FILE"
        elif value:
            found[key], source[key] = value, name
    return found, source


def _files_read(data: dict[str, Any], config_file: str, lines: YamlLines) -> dict[str, Any]:
    """The YAML's secrets given as `<key>_file:` read into `<key>` (copies, `data` kept)."""

    def read(mapping: dict[str, Any], path: tuple[str, ...], at: tuple[str, ...]) -> dict[str, Any]:
        key, rest = path[0], path[1:]
        if rest:
            child = mapping.get(key)
            return (
                {**mapping, key: read(child, rest, (*at, key))}
                if isinstance(child, dict)
                else mapping
            )
        if f"{key}_file" not in mapping:
            return mapping
        where_at = (*at, f"{key}_file")
        where = f"{config_file}:{lines.line_for(where_at)}: {format_path(where_at)}"
        found = {k: v for k, v in mapping.items() if k != f"{key}_file"}
        files = mapping[f"{key}_file"]
        if key in SECRET_MAPPINGS:
            return {**found, key: _mapping_read(files, mapping.get(key), where, key)}
        if key in mapping:
            raise SettingsError(f"{where}: set {key} or {key}_file, not both")
        return {**found, key: _secret_file(str(files), where)}

    for path in SECRETS:
        data = read(data, path, ())
    return data


def _as_written(data: Mapping[str, Any], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """`loc` as the YAML writes it: `secret_key_file` where the secret was read from a file."""
    node: Any = data
    for i, key in enumerate(loc):
        if not isinstance(node, Mapping):
            break
        if key not in node and f"{key}_file" in node:
            return (*loc[:i], f"{key}_file")
        node = node.get(key)
    return loc


def _read_file(path: str) -> tuple[dict[str, Any], YamlLines]:
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}, YamlLines(text)
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of settings, e.g. 'database_url: ...'")
    return data, YamlLines(text)


def _problem(err: Mapping[str, Any]) -> str:
    """One problem in words; a secret's value is not repeated (it would reach the logs)."""
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(_Spec.model_fields)
        loc = err["loc"]
        if len(loc) == 1:
            return f"unknown setting {loc[0]!r}; expected one of: {allowed}"
        return f"unknown key {loc[-1]!r}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if any(tuple(err["loc"][: len(path)]) == path for path in SECRETS):
        return message
    return f"{message} (got {err.get('input')!r})"


def load_settings(config_file: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `config_file` (optional), with the environment winning over the file.
    Every section is validated here, before anything uses it; SettingsError names each
    problem's variable, or its file, line and path."""
    env = os.environ if env is None else env
    written, lines = _read_file(config_file) if config_file else ({}, YamlLines(""))
    from_file = _files_read(written, config_file, lines) if config_file else {}
    from_env, source = _from_env(env)
    merged = {**from_file, **from_env}

    def where(loc: tuple[Any, ...]) -> str:
        """The variable, or the file, line and path, that gave the setting at `loc`."""
        if loc and loc[0] in source:
            return source[loc[0]]
        at = _as_written(written, loc)
        line = lines.line_for(at)
        return f"{config_file}:{line}: {format_path(at)}" if line else str(config_file)

    try:
        spec = _Spec.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            problems.append(f"{where(loc)}: {_problem({**err, 'loc': loc})}")
        raise SettingsError("\n".join(problems)) from None

    try:
        url = database_url(spec.database_url)
    except ValueError as exc:
        raise SettingsError(f"{where(('database_url',))}: {exc}") from None
    if spec.telegram_webhook_secret and not spec.external_url:
        raise SettingsError(
            "SIGAP_TELEGRAM_WEBHOOK_SECRET: Telegram's webhook mode needs SIGAP_EXTERNAL_URL (the "
            "HTTPS URL Telegram posts to); set it, or unset the secret for long polling"
        )
    if spec.database_password is not None:
        try:
            url = with_password(url, spec.database_password)
        except ValueError as exc:
            raise SettingsError(f"{where(('database_password',))}: {exc}") from None
    privileged = {"auto": None, "true": True, "false": False}[spec.ping_privileged]
    return Settings(
        database_url=url,
        alertmanager_token=spec.alertmanager_token,
        secret_key=spec.secret_key or secrets.token_urlsafe(32),
        secret_key_generated=spec.secret_key is None,
        inventory=spec.inventory,
        alertmanager_urls=tuple(spec.alertmanager_url),
        prometheus_url=spec.prometheus_url,
        external_url=spec.external_url,
        transient_window=spec.transient_window,
        reopen_window=spec.reopen_window,
        reconcile_interval=spec.reconcile_interval,
        ping_check=spec.ping_check,
        ping_privileged=privileged,
        ping_count=spec.ping_count,
        ping_timeout=spec.ping_timeout,
        database_timeout=spec.database_timeout,
        body_timeout=spec.body_timeout,
        trusted_proxies=tuple(ipaddress.ip_network(p, strict=False) for p in spec.trusted_proxies),
        session_idle_timeout=spec.session_idle_timeout,
        session_lifetime=spec.session_lifetime,
        timezone=spec.timezone,
        document_place=spec.document_place,
        notify=spec.notify,
        escalation=targets_of(spec.escalation),
        ping_concurrency=spec.ping_concurrency,
        paging=spec.paging,
        retention=spec.retention,
        status_page=spec.status_page,
        status_networks=tuple(ipaddress.ip_network(p, strict=False) for p in spec.status_networks),
        status_interval=spec.status_interval,
        telegram_bot_token=spec.telegram_bot_token,
        telegram_api_url=spec.telegram_api_url,
        telegram_webhook_secret=spec.telegram_webhook_secret,
        letterhead=_letterhead(spec.letterhead, config_file, lines),
        photos=spec.photos,
        whatsapp=_whatsapp(spec),
        gateway_secret=spec.gateway_secret,
    )


def _whatsapp(spec: _Spec) -> WhatsAppSettings | None:
    token, number = spec.whatsapp_token, spec.whatsapp_phone_number_id
    secret, verify = spec.whatsapp_app_secret, spec.whatsapp_verify_token
    if not (token and number and secret and verify):
        return None  # all or none, as the spec checked
    return WhatsAppSettings(
        token, number, secret, verify, spec.whatsapp_api_url, spec.whatsapp_api_version,
        spec.whatsapp_template, spec.whatsapp_template_language,
    )  # fmt: skip


def _letterhead(config: LetterheadConfig, config_file: str | None, lines: YamlLines) -> Letterhead:
    """The letterhead with its crest checked now: a PNG or JPEG that Pillow reads (a path
    relative to the settings file's directory), else SettingsError naming the file."""
    if config.crest is None:
        return Letterhead.of(config)
    path = Path(config.crest)
    if not path.is_absolute() and config_file:
        path = Path(config_file).parent / path
    path = path.absolute()
    where = f"{config_file}:{lines.line_for(('letterhead', 'crest'))}: letterhead.crest"
    try:
        with Image.open(path) as image:
            kind = image.format
            image.verify()
    except OSError as exc:
        reason = exc.strerror or "not an image Pillow can read"
        raise SettingsError(
            f"{where}: cannot use {path}: {reason}; expected the regency's crest as a PNG or "
            "JPEG file"
        ) from None
    if kind not in ("PNG", "JPEG"):
        raise SettingsError(f"{where}: {path} is a {kind} image; expected a PNG or JPEG file")
    return Letterhead.of(config.model_copy(update={"crest": str(path)}))
