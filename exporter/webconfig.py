"""`--web.config.file`: TLS, basic auth and a rate limit, in Prometheus exporter-toolkit's format.

The same file an operator writes for node_exporter works here, so Prometheus scrapes SIGAP with
its usual `tls_config` and `basic_auth`. `load_web_config()` validates it into a frozen
`WebConfig` or raises `WebConfigError` (file, line, path, what was expected), and loads the
certificates then, so a bad key fails at start, at `--config.check` and at a reload (SIGHUP,
`/-/reload`: which keeps the last good file), never on a scrape.

Every key of the toolkit is read as the toolkit reads it (exporter-toolkit's own `web/testdata`
is the test), relative file names relative to the file's directory. Where Python's `ssl` and
the toolkit differ, the difference is named here and in the README:

- `cipher_suites` are Go's names, mapped to OpenSSL's for TLS 1.2; TLS 1.3's suites are
  accepted and, as in Go, not configurable.
- `RequireAndVerifyClientCert` needs a `client_ca_file` or `client_ca` (Go would fall back to
  the system's CAs: any public CA's client could then log in); `VerifyClientCertIfGiven`
  without one verifies against the system's CAs, as Go does.
- `client_allowed_sans` is checked once the handshake is done: a client without an allowed
  SAN gets 403, which says why, instead of a failed handshake, which here only closes the
  connection (asyncio's TLS drops the alert).
- `http2` is checked as Go's HTTP/2 server checks it, although SIGAP speaks HTTP/1.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ipaddress
import os
import re
import ssl
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import bcrypt
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from exporter import openssl
from exporter.inventory import ConfigError, Problem, YamlLines, format_path

ClientAuthType = Literal[
    "",
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "RequireClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_VERIFY_MODE = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_UNVERIFIED = frozenset({"RequestClientCert", "RequireAnyClientCert"})
"""Go asks these clients for a certificate and takes it whoever issued it."""
_REQUIRES_CERT = frozenset({"RequireAnyClientCert", "RequireAndVerifyClientCert"})
SYSTEM_CAS = b"<the system's CAs>"
"""`WebConfig.client_ca` when client certificates are verified against the system's CAs."""
TLS12_CIPHERS = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
}
"""Go's `tls.CipherSuites()` for TLS 1.0-1.2 (its secure ones, the only names it reads), by
their OpenSSL names."""
TLS13_CIPHERS = frozenset({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                           "TLS_CHACHA20_POLY1305_SHA256"})  # fmt: skip
"""Accepted as Go accepts them: named, not configurable (TLS 1.3 keeps its defaults)."""
_HTTP2_CIPHERS = (
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
)
"""Go's HTTP/2 server refuses a TLS 1.2 cipher list without one of these (RFC 7540, 9.2.2)."""
CURVES = {"CurveP256": "P-256", "CurveP384": "P-384", "CurveP521": "P-521", "X25519": "X25519"}
"""exporter-toolkit's curve names, by OpenSSL's."""
_DEFAULT_TLS12_CIPHERS = ":".join(
    c["name"] for c in ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).get_ciphers()
    if c["protocol"] != "TLSv1.3"
)  # fmt: skip
"""Python's default, to go back to when a reload removes `cipher_suites`."""
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
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
                     "m": 60.0, "h": 3600.0}  # fmt: skip
_MEMORY_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
"""Where an inline key is written for OpenSSL to read, then removed: memory, not a disk."""
_SECRETS = frozenset({"key", "basic_auth_users"})
"""Keys whose values an error message must not repeat."""


class WebConfigError(ConfigError):
    """A web config file that cannot be used."""


def _scalar_text(value: object) -> object:
    """A header value as Go's YAML reads it into a string (`X-XSS-Protection: 1` is "1")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def parse_go_duration(value: object) -> float:
    """Seconds from a Go duration (`1s`, `1m30s`, `250ms`), as exporter-toolkit reads
    `rate_limit.interval`; a bare 0 is zero, any other bare number is refused (Go would read it
    as nanoseconds)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    text = value.strip() if isinstance(value, str) else None
    parts = _GO_DURATION.findall(text) if text else []
    if text == "0":
        return 0.0
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(
            f"{value!r} is not a duration; expected a number with a unit, e.g. 1s, 250ms, 1m30s"
        )
    return sum(float(n) * _GO_DURATION_UNIT[u] for n, u in parts)


HeaderValue = Annotated[str, BeforeValidator(_scalar_text)]
GoDuration = Annotated[float, BeforeValidator(parse_go_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _TlsServerSpec(_Strict):
    cert: str | None = None
    key: str | None = None
    client_ca: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    client_auth_type: ClientAuthType = "NoClientCert"
    client_ca_file: str | None = None
    cipher_suites: list[str] = []
    curve_preferences: list[str] = []
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"
    prefer_server_cipher_suites: bool = True
    client_allowed_sans: list[str] | None = None


class _HttpServerSpec(_Strict):
    http2: bool = True
    headers: dict[str, HeaderValue] = {}


class _RateLimitSpec(_Strict):
    interval: GoDuration = 0.0
    burst: Annotated[int, Field(ge=0)] = 0


class _WebConfigSpec(_Strict):
    tls_server_config: _TlsServerSpec | None = None
    http_server_config: _HttpServerSpec = _HttpServerSpec()
    rate_limit: _RateLimitSpec = _RateLimitSpec()
    basic_auth_users: dict[str, str] = {}


@dataclass(frozen=True)
class RateLimit:
    """`burst` requests at once, then one more each `interval` seconds (burst 0: none)."""

    interval: float
    burst: int


@dataclass(frozen=True)
class TlsSettings:
    """The TLS half of a web config; each PEM comes from its file or from the config itself."""

    cert_file: Path | None
    key_file: Path | None
    client_auth_type: str = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: str = "TLS12"
    max_version: str = "TLS13"
    cert: str | None = None
    key: str | None = field(default=None, repr=False)
    client_ca: str | None = None
    cipher_suites: tuple[str, ...] = ()
    curve_preferences: tuple[str, ...] = ()
    prefer_server_cipher_suites: bool = True
    client_allowed_sans: tuple[str, ...] | None = None

    @property
    def takes_unverified_certificates(self) -> bool:
        return self.client_auth_type in _UNVERIFIED

    def client_ca_pem(self) -> bytes | None:
        """The client CAs as they are loaded: the PEM, `SYSTEM_CAS`, or None (no client
        certificates verified). Raises OSError for an unreadable file."""
        if self.client_ca_file is not None:
            return self.client_ca_file.read_bytes()
        if self.client_ca is not None:
            return self.client_ca.encode()
        if self.client_auth_type == "VerifyClientCertIfGiven":
            return SYSTEM_CAS
        return None

    def ssl_context(self) -> ssl.SSLContext:
        """The server's context; raises OSError, ssl.SSLError or openssl.OpenSSLUnavailable
        for what cannot be loaded."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.apply(context)
        if self.client_ca_file is not None:
            context.load_verify_locations(cafile=self.client_ca_file)
        elif self.client_ca is not None:
            context.load_verify_locations(cadata=self.client_ca)
        elif self.client_ca_pem() == SYSTEM_CAS:
            context.load_default_certs(ssl.Purpose.CLIENT_AUTH)
        return context

    def apply(self, context: ssl.SSLContext) -> None:
        """Set everything but the client CAs on `context`: on the running server's, the
        handshakes that follow use it (a CA once loaded cannot be unloaded from a context)."""
        self._load_chain(context)
        tls12 = [TLS12_CIPHERS[c] for c in self.cipher_suites if c in TLS12_CIPHERS]
        minimum = _TLS_VERSIONS[self.min_version]
        if self.cipher_suites and not tls12:  # only TLS 1.3 suites: Go has none for TLS 1.2
            minimum = max(minimum, ssl.TLSVersion.TLSv1_3)
        context.minimum_version = minimum
        context.maximum_version = _TLS_VERSIONS[self.max_version]
        context.set_ciphers(":".join(tls12) if tls12 else _DEFAULT_TLS12_CIPHERS)
        if self.prefer_server_cipher_suites:
            context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        else:
            context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        if self.curve_preferences:
            openssl.set_groups(context, [CURVES[c] for c in self.curve_preferences])
        context.verify_mode = _VERIFY_MODE[self.client_auth_type]
        openssl.verify_client_certificates(context, not self.takes_unverified_certificates)

    def _load_chain(self, context: ssl.SSLContext) -> None:
        """Inline PEMs go through a private temporary directory: OpenSSL reads files only."""
        if self.cert_file is not None and self.key_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file, password=_no_password)
            return
        with tempfile.TemporaryDirectory(prefix="sigap-tls-", dir=_MEMORY_DIR) as directory:
            cert = self.cert_file or _private_file(Path(directory, "cert.pem"), self.cert)
            key = self.key_file or _private_file(Path(directory, "key.pem"), self.key)
            context.load_cert_chain(cert, key, password=_no_password)


def _private_file(path: Path, text: str | None) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text or "")
    return path


def _no_password() -> bytes:
    """An encrypted key fails to load instead of OpenSSL asking on the terminal."""
    raise ssl.SSLError("the key is encrypted; expected an unencrypted PEM key")


def allowed_san(peercert: Mapping[str, Any], allowed: Sequence[str]) -> bool:
    """Does the certificate (`SSLSocket.getpeercert()`) name one of `allowed` among its DNS
    names, e-mail addresses, IP addresses or URIs, as exporter-toolkit compares them?"""
    for kind, value in peercert.get("subjectAltName", ()):
        if kind == "IP Address":
            value = str(ipaddress.ip_address(value.strip()))  # Go's form: "::1", not "0:0:...:1"
        elif kind not in ("DNS", "email", "URI"):
            continue
        if value in allowed:
            return True
    return False


@dataclass(frozen=True)
class WebConfig:
    """What `--web.config.file` asks for; the default is plain HTTP open to all."""

    file: str = ""
    tls: TlsSettings | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    """User name → bcrypt hash; empty: no basic auth."""
    headers: Mapping[str, str] = field(default_factory=dict)
    rate_limit: RateLimit | None = None
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)
    client_ca: bytes | None = field(default=None, compare=False, repr=False)
    """The client CAs as loaded into `ssl_context` (a reload may not change them)."""

    def describe(self) -> str:
        tls = f"TLS on ({self.tls.client_auth_type})" if self.tls else "TLS off"
        limit = self.rate_limit
        rate = f", rate limit {limit.burst} per {limit.interval:g}s" if limit else ""
        return f"{tls}, {len(self.users)} basic auth user(s){rate}"

    def check_reload(self, new: WebConfig) -> None:
        """Raise WebConfigError if `new` cannot take effect on the running server: TLS switched
        on or off, other client CAs (a CA once loaded cannot be unloaded), or the curve
        preferences removed (OpenSSL's defaults cannot be asked back through Python)."""
        if (self.tls is None) != (new.tls is None):
            change = "on" if new.tls else "off"
            raise WebConfigError(
                new.file,
                [Problem("tls_server_config", f"switching TLS {change} needs a restart")],
            )
        if self.client_ca != new.client_ca:
            key = "client_ca" if new.tls and new.tls.client_ca else "client_ca_file"
            raise WebConfigError(
                new.file,
                [
                    Problem(
                        f"tls_server_config.{key}",
                        "another client CA needs a restart (the old one would stay trusted)",
                    )
                ],
            )
        if self.tls and new.tls and self.tls.curve_preferences and not new.tls.curve_preferences:
            raise WebConfigError(
                new.file,
                [
                    Problem(
                        "tls_server_config.curve_preferences",
                        "removing it needs a restart (the running server keeps the old curves)",
                    )
                ],
            )

    def reloaded(self, new: WebConfig) -> WebConfig:
        """`new` in force on the running server (`check_reload` passed): basic auth users,
        headers, the rate limit and the TLS certificate, key, versions, ciphers, curves and
        client auth type take effect at once; the running server's TLS context stays, updated."""
        if new.tls is None or self.ssl_context is None:
            return new
        try:
            new.tls.apply(self.ssl_context)
        except openssl.OpenSSLUnavailable as exc:
            raise WebConfigError(new.file, [_no_openssl(exc, None)]) from exc
        except (OSError, ssl.SSLError) as exc:  # the files changed again since they were read
            raise WebConfigError(
                new.file, [Problem("tls_server_config", f"cannot load the certificate: {exc}")]
            ) from exc
        return replace(new, ssl_context=self.ssl_context, client_ca=self.client_ca)


def _no_openssl(exc: openssl.OpenSSLUnavailable, line: int | None) -> Problem:
    return Problem(
        "tls_server_config",
        f"curve_preferences and RequestClientCert/RequireAnyClientCert need OpenSSL calls "
        f"Python's ssl does not offer, made through CPython's own ({exc}); expected no "
        "curve_preferences and a client_auth_type that verifies, or CPython",
        line,
    )


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
    exporter-toolkit, whose `JoinDir` does the same)."""
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
                    "expected a mapping with the keys tls_server_config, http_server_config, "
                    "rate_limit and basic_auth_users",
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
        tls = _tls_settings(spec.tls_server_config, spec.http_server_config, base, problem)
    if problems:
        raise WebConfigError(file, problems)
    context, client_ca = None, None
    if tls is not None:
        try:
            context = tls.ssl_context()
            client_ca = tls.client_ca_pem()
        except openssl.OpenSSLUnavailable as exc:
            line = lines.line_for(("tls_server_config",))
            raise WebConfigError(file, [_no_openssl(exc, line)]) from exc
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
    limit = spec.rate_limit
    return WebConfig(
        file=file,
        tls=tls,
        users=dict(spec.basic_auth_users),
        headers=dict(spec.http_server_config.headers),
        rate_limit=RateLimit(limit.interval, limit.burst) if limit.interval else None,
        ssl_context=context,
        client_ca=client_ca,
    )


def _tls_settings(
    spec: _TlsServerSpec,
    http: _HttpServerSpec,
    base: Path,
    problem: Callable[[tuple[Any, ...], str], None],
) -> TlsSettings | None:
    loc = ("tls_server_config",)
    ok = True

    def refuse(key: str | tuple[Any, ...], message: str) -> None:
        nonlocal ok
        problem((*loc, *((key,) if isinstance(key, str) else key)), message)
        ok = False

    files: dict[str, Path] = {}
    for key in ("cert_file", "key_file", "client_ca_file"):
        name = getattr(spec, key)
        if not name:  # "" is unset, as in exporter-toolkit
            continue
        path = base / name
        if not path.is_file():
            refuse(key, f"{str(path)!r} is not a readable file; expected a PEM file")
        files[key] = path
    for file_key, inline_key, what in (
        ("cert_file", "cert", "certificate"),
        ("key_file", "key", "key"),
        ("client_ca_file", "client_ca", "client CA"),
    ):
        has_file, has_inline = bool(getattr(spec, file_key)), bool(getattr(spec, inline_key))
        if has_file and has_inline:
            refuse(inline_key, f"and {file_key} are both set; expected the {what} once")
        elif not (has_file or has_inline) and file_key != "client_ca_file":
            refuse(
                file_key,
                f"is required but missing (TLS needs a certificate and its key): expected "
                f"{file_key}, or {inline_key} with the PEM itself",
            )
    auth = spec.client_auth_type or "NoClientCert"
    if auth == "RequireClientCert":  # exporter-toolkit's old name
        auth = "RequireAnyClientCert"
    has_ca = bool(spec.client_ca_file or spec.client_ca)
    if auth == "RequireAndVerifyClientCert" and not has_ca:
        refuse(
            "client_ca_file",
            f"is required with client_auth_type {auth}; expected the CA that signs the client "
            "certificates (or client_ca with the PEM itself)",
        )
    if auth == "NoClientCert" and has_ca:
        refuse(
            "client_auth_type",
            "is NoClientCert although a client CA is set; expected "
            "RequireAndVerifyClientCert (or remove the client CA)",
        )
    if spec.client_allowed_sans is not None and auth not in _REQUIRES_CERT:
        refuse(
            "client_allowed_sans",
            f"needs a client certificate, but client_auth_type is {auth}; expected "
            "RequireAndVerifyClientCert or RequireAnyClientCert",
        )
    known = True
    for i, name in enumerate(spec.cipher_suites):
        if name not in TLS12_CIPHERS and name not in TLS13_CIPHERS:
            known = False
            refuse(("cipher_suites", i), f"unknown cipher {name!r}; expected one of: "
                   f"{', '.join([*TLS12_CIPHERS, *sorted(TLS13_CIPHERS)])}")  # fmt: skip
    for i, name in enumerate(spec.curve_preferences):
        if name not in CURVES:
            refuse(("curve_preferences", i), f"unknown curve {name!r}; expected one of: "
                   f"{', '.join(CURVES)}")  # fmt: skip
    minimum, maximum = _TLS_VERSIONS[spec.min_version], _TLS_VERSIONS[spec.max_version]
    if minimum > maximum:
        refuse(
            "min_version",
            f"{spec.min_version} is above max_version {spec.max_version}; expected min <= max",
        )
    tls12 = [c for c in spec.cipher_suites if c in TLS12_CIPHERS]
    if known and spec.cipher_suites and not tls12 and maximum < ssl.TLSVersion.TLSv1_3:
        refuse("cipher_suites", "has no TLS 1.2 cipher suite, and max_version is below TLS13: "
               "no handshake could succeed; expected a TLS 1.2 suite")  # fmt: skip
    if (
        http.http2
        and known
        and spec.cipher_suites
        and minimum < ssl.TLSVersion.TLSv1_3
        and not any(c in _HTTP2_CIPHERS for c in spec.cipher_suites)
    ):
        refuse(
            "cipher_suites",
            "is missing an HTTP/2-required AES_128_GCM_SHA256 cipher (as exporter-toolkit "
            f"checks); expected one of {' or '.join(_HTTP2_CIPHERS)}, or "
            "http_server_config.http2: false",
        )
    if not ok:
        return None
    return TlsSettings(
        cert_file=files.get("cert_file"),
        key_file=files.get("key_file"),
        client_auth_type=auth,
        client_ca_file=files.get("client_ca_file"),
        min_version=spec.min_version,
        max_version=spec.max_version,
        cert=spec.cert or None,
        key=spec.key or None,
        client_ca=spec.client_ca or None,
        cipher_suites=tuple(spec.cipher_suites),
        curve_preferences=tuple(spec.curve_preferences),
        prefer_server_cipher_suites=spec.prefer_server_cipher_suites,
        client_allowed_sans=(
            tuple(spec.client_allowed_sans) if spec.client_allowed_sans is not None else None
        ),
    )


def _problem(err: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
    # pydantic adds validator names ("function-before[...]") to locations; they are not paths
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    kind = err["type"]
    shown = "a secret" if _SECRETS & {str(p) for p in loc} else repr(err.get("input"))
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}; expected one of: {_allowed(loc[:-1])}"
    if kind == "literal_error":
        expected = str(err["ctx"]["expected"]).removeprefix("'', ")  # "" is the default's alias
        return loc, f"bad value {shown}; expected {expected}"
    if kind == "missing":
        return loc, "is required but missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        return loc, msg[len("Value error, ") :]
    return loc, f"bad value {shown}: {msg[0].lower()}{msg[1:]}"


def _allowed(loc: tuple[Any, ...]) -> str:
    models: dict[tuple[Any, ...], type[BaseModel]] = {
        ("tls_server_config",): _TlsServerSpec,
        ("http_server_config",): _HttpServerSpec,
        ("rate_limit",): _RateLimitSpec,
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
