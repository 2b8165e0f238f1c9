"""`--web.config.file`: TLS and basic auth, in the format of Prometheus' exporter-toolkit.

The same file an operator writes for node_exporter works here, so Prometheus scrapes SIGAP with
its usual `tls_config` and `basic_auth`. `load_web_config()` validates it into a frozen
`WebConfig` or raises `WebConfigError` (file, line, path, what was expected), and loads the
certificates then, so a bad key fails at start, at `--config.check` and at a reload (SIGHUP,
`/-/reload`: which keeps the last good file), never on a scrape.

Supported: ``tls_server_config`` (cert_file, key_file, client_auth_type, client_ca_file,
min_version, max_version), ``http_server_config`` (headers; http2 is accepted and ignored: the
server speaks HTTP/1.1) and ``basic_auth_users`` (bcrypt hashes). The toolkit's other keys are
refused by name rather than silently ignored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
import ssl
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import bcrypt
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from exporter.inventory import ConfigError, Problem, YamlLines, format_path

ClientAuthType = Literal["NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"]
TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_VERIFY_MODE = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_TOOLKIT_ONLY = {
    "tls_server_config": {
        "cert": "write the certificate to a file and use cert_file",
        "key": "write the key to a file and use key_file",
        "client_ca": "write the CA to a file and use client_ca_file",
        "client_allowed_sans": "issue the client certificates from a CA of their own",
        "cipher_suites": "remove it; Python's OpenSSL defaults apply",
        "prefer_server_cipher_suites": "remove it; Python's OpenSSL defaults apply",
        "curve_preferences": "remove it; Python's OpenSSL defaults apply",
    },
    "": {"rate_limit": "remove it, or rate-limit in a reverse proxy"},
}
"""exporter-toolkit keys sigap-exporter does not implement, and what to do instead."""
_UNVERIFIED = ("RequestClientCert", "RequireAnyClientCert")
_UNVERIFIED_CLIENT_AUTH = " (a client certificate nobody verifies proves nothing)"
_HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
"""The headers exporter-toolkit lets a web config set, with their allowed values (any if none)."""
_BCRYPT = re.compile(r"^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$")
_UNKNOWN_USER_HASH = b"$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
"""A user that does not exist still costs one bcrypt, so timing does not tell users apart
(exporter-toolkit uses the same fixed hash)."""


class WebConfigError(ConfigError):
    """A web config file that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _TlsServerSpec(_Strict):
    cert_file: str | None = None
    key_file: str | None = None
    client_auth_type: ClientAuthType = "NoClientCert"
    client_ca_file: str | None = None
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"


class _HttpServerSpec(_Strict):
    http2: bool = True
    headers: dict[str, str] = {}


class _WebConfigSpec(_Strict):
    tls_server_config: _TlsServerSpec | None = None
    http_server_config: _HttpServerSpec = _HttpServerSpec()
    basic_auth_users: dict[str, str] = {}


@dataclass(frozen=True)
class TlsSettings:
    cert_file: Path
    key_file: Path
    client_auth_type: str = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: str = "TLS12"
    max_version: str = "TLS13"

    def ssl_context(self) -> ssl.SSLContext:
        """The server's context; raises OSError or ssl.SSLError for unusable files."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.apply(context)
        if self.client_ca_file is not None:
            context.load_verify_locations(cafile=self.client_ca_file)
        return context

    def apply(self, context: ssl.SSLContext) -> None:
        """Set everything but the client CA on `context`: on the running server's, the
        handshakes that follow use it (a CA once loaded cannot be unloaded from a context)."""
        context.load_cert_chain(self.cert_file, self.key_file)
        context.minimum_version = _TLS_VERSIONS[self.min_version]
        context.maximum_version = _TLS_VERSIONS[self.max_version]
        context.verify_mode = _VERIFY_MODE[self.client_auth_type]


@dataclass(frozen=True)
class WebConfig:
    """What `--web.config.file` asks for; the default is plain HTTP open to all."""

    file: str = ""
    tls: TlsSettings | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    """User name → bcrypt hash; empty: no basic auth."""
    headers: Mapping[str, str] = field(default_factory=dict)
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)
    client_ca: bytes | None = field(default=None, compare=False, repr=False)
    """The client CA as loaded into `ssl_context` (a reload may not change it)."""

    def describe(self) -> str:
        tls = f"TLS on ({self.tls.client_auth_type})" if self.tls else "TLS off"
        return f"{tls}, {len(self.users)} basic auth user(s)"

    def check_reload(self, new: WebConfig) -> None:
        """Raise WebConfigError if `new` cannot take effect on the running server: TLS switched
        on or off, or another client CA (a CA once loaded cannot be unloaded)."""
        if (self.tls is None) != (new.tls is None):
            change = "on" if new.tls else "off"
            raise WebConfigError(
                new.file,
                [Problem("tls_server_config", f"switching TLS {change} needs a restart")],
            )
        if self.client_ca != new.client_ca:
            raise WebConfigError(
                new.file,
                [
                    Problem(
                        "tls_server_config.client_ca_file",
                        "another client CA needs a restart (the old one would stay trusted)",
                    )
                ],
            )

    def reloaded(self, new: WebConfig) -> WebConfig:
        """`new` in force on the running server (`check_reload` passed): basic auth users,
        headers and the TLS certificate, key, versions and client auth type take effect at
        once; the running server's TLS context stays, updated."""
        if new.tls is None or self.ssl_context is None:
            return new
        try:
            new.tls.apply(self.ssl_context)
        except (OSError, ssl.SSLError) as exc:  # the files changed again since they were read
            raise WebConfigError(
                new.file, [Problem("tls_server_config", f"cannot load the certificate: {exc}")]
            ) from exc
        return replace(new, ssl_context=self.ssl_context, client_ca=self.client_ca)


def load_web_config(path: str | Path) -> WebConfig:
    """Read, validate and load (certificates included) a web config file."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise WebConfigError(
            file, [Problem("", f"cannot read the file: {exc.strerror or exc}")]
        ) from exc
    return parse_web_config(text, file, base=Path(path).parent)


def parse_web_config(text: str, file: str = "<web config>", *, base: Path = Path()) -> WebConfig:
    """Relative file names are relative to `base`, the config file's directory (as in
    exporter-toolkit)."""
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise WebConfigError(
            file, [Problem("", f"not valid YAML: {exc.problem}", mark.line + 1 if mark else None)]
        ) from exc
    except yaml.YAMLError as exc:
        raise WebConfigError(file, [Problem("", f"not valid YAML: {exc}")]) from exc
    lines = YamlLines(text)
    if data is None:  # an empty file: exporter-toolkit's "no TLS, no auth"
        return WebConfig(file=file)
    if not isinstance(data, dict):
        raise WebConfigError(
            file,
            [
                Problem(
                    "",
                    "expected a mapping with the keys tls_server_config, http_server_config "
                    "and basic_auth_users",
                    1,
                )
            ],
        )
    problems: list[Problem] = []

    def problem(loc: tuple[Any, ...], message: str) -> None:
        problems.append(Problem(format_path(loc), message, lines.line_for(loc)))

    try:
        spec = _WebConfigSpec.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problem(*_problem(err))
        raise WebConfigError(file, problems) from None

    for name, value in spec.http_server_config.headers.items():
        loc = ("http_server_config", "headers", name)
        if name not in _HEADERS:
            problem(loc, f"header {name!r} cannot be set; expected one of: {', '.join(_HEADERS)}")
        elif _HEADERS[name] and value not in _HEADERS[name]:
            problem(loc, f"bad value {value!r}; expected one of: {', '.join(_HEADERS[name])}")
    for user, hashed in spec.basic_auth_users.items():
        if not _BCRYPT.match(hashed):
            problem(
                ("basic_auth_users", user),
                "not a bcrypt hash; expected e.g. $2y$10$... from "
                "`htpasswd -nBC 10 \"\" | tr -d ':\\n'`",
            )
    tls = None
    if spec.tls_server_config is not None:
        tls = _tls_settings(spec.tls_server_config, base, problem)
    if problems:
        raise WebConfigError(file, problems)
    context, client_ca = None, None
    if tls is not None:
        try:
            context = tls.ssl_context()
            client_ca = tls.client_ca_file.read_bytes() if tls.client_ca_file else None
        except (OSError, ssl.SSLError) as exc:
            raise WebConfigError(
                file,
                [
                    Problem(
                        "tls_server_config",
                        f"cannot load the certificate, key or client CA: {exc}; expected "
                        "readable PEM files, the key matching the certificate",
                        lines.line_for(("tls_server_config",)),
                    )
                ],
            ) from exc
    return WebConfig(
        file=file,
        tls=tls,
        users=dict(spec.basic_auth_users),
        headers=dict(spec.http_server_config.headers),
        ssl_context=context,
        client_ca=client_ca,
    )


def _tls_settings(
    spec: _TlsServerSpec, base: Path, problem: Callable[[tuple[Any, ...], str], None]
) -> TlsSettings | None:
    loc = ("tls_server_config",)
    ok = True
    files: dict[str, Path] = {}
    for key in ("cert_file", "key_file", "client_ca_file"):
        name = getattr(spec, key)
        if name is None:
            continue
        path = base / name
        if not path.is_file():
            problem((*loc, key), f"{str(path)!r} is not a readable file; expected a PEM file")
            ok = False
        files[key] = path
    for key in ("cert_file", "key_file"):
        if getattr(spec, key) is None:
            problem((*loc, key), "is required but missing (TLS needs a certificate and its key)")
            ok = False
    verifies = spec.client_auth_type != "NoClientCert"
    if verifies and spec.client_ca_file is None:
        problem(
            (*loc, "client_ca_file"),
            f"is required with client_auth_type {spec.client_auth_type}; expected the CA "
            "that signs the client certificates",
        )
        ok = False
    if not verifies and spec.client_ca_file is not None:
        problem(
            (*loc, "client_auth_type"),
            "is NoClientCert although client_ca_file is set; expected "
            "RequireAndVerifyClientCert (or remove client_ca_file)",
        )
        ok = False
    if _TLS_VERSIONS[spec.min_version] > _TLS_VERSIONS[spec.max_version]:
        problem(
            (*loc, "min_version"),
            f"{spec.min_version} is above max_version {spec.max_version}; expected min <= max",
        )
        ok = False
    if not ok:
        return None
    return TlsSettings(
        cert_file=files["cert_file"],
        key_file=files["key_file"],
        client_auth_type=spec.client_auth_type,
        client_ca_file=files.get("client_ca_file"),
        min_version=spec.min_version,
        max_version=spec.max_version,
    )


def _problem(err: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        section = str(loc[0]) if len(loc) > 1 else ""
        instead = _TOOLKIT_ONLY.get(section, {}).get(str(loc[-1]))
        if instead:
            return loc, f"is an exporter-toolkit setting sigap-exporter does not support; {instead}"
        return loc, f"unknown key {loc[-1]!r}; expected one of: {_allowed(loc[:-1])}"
    if kind == "literal_error":
        hint = _UNVERIFIED_CLIENT_AUTH if err.get("input") in _UNVERIFIED else ""
        return loc, f"bad value {err.get('input')!r}{hint}; expected {err['ctx']['expected']}"
    if kind == "missing":
        return loc, "is required but missing"
    msg = str(err["msg"])
    return loc, f"bad value {err.get('input')!r}: {msg[0].lower()}{msg[1:]}"


def _allowed(loc: tuple[Any, ...]) -> str:
    models: dict[tuple[Any, ...], type[BaseModel]] = {
        ("tls_server_config",): _TlsServerSpec,
        ("http_server_config",): _HttpServerSpec,
    }
    model = models.get(loc, _WebConfigSpec)
    return ", ".join(model.model_fields)


# --- basic auth -----------------------------------------------------------------------------------


class BasicAuth:
    """Checks ``Authorization: Basic`` against bcrypt hashes, as exporter-toolkit does.

    bcrypt costs ~75 ms at cost 10, so each (user, hash, password) result is cached: a
    Prometheus scraping every 2 s pays one bcrypt, not one per scrape. The cache is keyed by a
    SHA-256 of the three, so no password is kept in memory and no lookup compares secrets
    byte by byte; bcrypt itself compares in constant time. bcrypt runs in a thread, one at a
    time, so a flood of bad passwords takes one core and never the event loop.
    """

    CACHE_SIZE = 100

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users: dict[str, bytes] = {}
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        self._lock = asyncio.Lock()
        self.bcrypt_calls = 0
        self.replace(users)

    def replace(self, users: Mapping[str, str]) -> None:
        """Check against `users` from now on (a reloaded web config)."""
        self.users = {user: hashed.encode() for user, hashed in users.items()}
        self._cache.clear()

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    async def check(self, authorization: str | None) -> bool:
        """Is this ``Authorization`` header one of the users with the right password?"""
        credentials = parse_basic(authorization)
        if credentials is None:
            return False
        user, password = credentials
        hashed = self.users.get(user)
        key = hashlib.sha256(
            b"\0".join((user.encode(), hashed or _UNKNOWN_USER_HASH, password))
        ).digest()
        cached = self._cache.get(key)
        if cached is None:
            async with self._lock:
                cached = self._cache.get(key)  # another request may have checked it meanwhile
                if cached is None:
                    cached = await asyncio.get_running_loop().run_in_executor(
                        None, _checkpw, password, hashed or _UNKNOWN_USER_HASH
                    )
                    self.bcrypt_calls += 1
                    cached = cached and hashed is not None
                    self._cache[key] = cached
                    if len(self._cache) > self.CACHE_SIZE:
                        self._cache.popitem(last=False)
        return cached


def _checkpw(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # a hash bcrypt cannot read; refused at load, so only as a safety net
        return False


def parse_basic(authorization: str | None) -> tuple[str, bytes] | None:
    """(user, password bytes) from a ``Basic`` header, or None if there is none or it is bad."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
        user, sep, password = decoded.partition(b":")
        return (user.decode(), password) if sep else None
    except (binascii.Error, UnicodeDecodeError):
        return None
