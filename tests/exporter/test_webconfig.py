"""`--web.config.file` (exporter-toolkit's format): the file is validated like the inventory, TLS
is a real handshake (self-signed CA from the openssl CLI), basic auth guards every endpoint with
cached bcrypt off the event loop, and a real Prometheus scrapes with tls_config + basic_auth."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
import yaml

from exporter.webconfig import BasicAuth, WebConfigError, load_web_config, parse_basic
from tests.e2e import harness

from .conftest import ROOT, Exporter, free_port, needs_root, value

StartExporter = Callable[..., Exporter]
PASSWORD = "s3cret-scrape"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode().replace("$2b$", "$2y$")
"""As `htpasswd -nBC 10` writes it."""
ONE_NODE = (
    "probe: {interval: 500ms, timeout: 500ms, down_after: 3}\n"
    "skpd:\n  - id: t\n    name: T\n    nodes:\n"
    "      - {id: n1, address: 127.0.0.1, role: host, owner: skpd}\n"
)


@dataclass(frozen=True)
class Certs:
    dir: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def client_context(self, with_cert: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca)
        if with_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def issue(d: Path, name: str, common_name: str, ext: str) -> None:
    """`name`.pem and `name`.key, signed by the CA in `d` with the extensions file `ext`."""
    openssl("req", *EC, "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={common_name}", cwd=d)  # fmt: skip
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{name}.pem",
            cwd=d)  # fmt: skip


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all from the CA."""
    d = tmp_path_factory.mktemp("certs")
    openssl("req", "-x509", *EC, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=sigap-test-ca", cwd=d)  # fmt: skip
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        issue(d, name, f"sigap-{name}", f"{name}.ext")
    return Certs(d, d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem",
                 d / "client.key")  # fmt: skip


def write_web_config(directory: Path, config: dict[str, object], name: str = "web.yml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(config))
    return path


def full_config(**tls: str) -> dict[str, object]:
    return {
        "tls_server_config": {"cert_file": "server.pem", "key_file": "server.key", **tls},
        "http_server_config": {"headers": {"X-Content-Type-Options": "nosniff"}},
        "basic_auth_users": {"prometheus": HASH},
    }


# --- the file -------------------------------------------------------------------------------------


def test_a_full_web_config_loads_with_file_names_relative_to_it(certs: Certs) -> None:
    path = write_web_config(
        certs.dir,
        full_config(
            client_auth_type="RequireAndVerifyClientCert",
            client_ca_file="ca.pem",
            min_version="TLS13",
        ),
    )
    config = load_web_config(path)
    assert config.tls is not None and config.tls.cert_file == certs.server_cert
    assert config.tls.client_ca_file == certs.ca
    assert config.ssl_context is not None
    assert config.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert config.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert config.users == {"prometheus": HASH}
    assert config.headers == {"X-Content-Type-Options": "nosniff"}
    assert config.describe() == "TLS on (RequireAndVerifyClientCert), 1 basic auth user(s)"


def test_an_empty_file_means_plain_http_open_to_all(tmp_path: Path) -> None:
    (tmp_path / "web.yml").write_text("# nothing yet\n")
    config = load_web_config(tmp_path / "web.yml")
    assert config.tls is None and config.ssl_context is None and not config.users


BAD = [
    ("basic_auth_users: {prometheus: hunter2}", "basic_auth_users.prometheus", "htpasswd -nBC"),
    (
        "basic_auth_user: {}",
        "basic_auth_user",
        "unknown key 'basic_auth_user'; expected one of: tls_server_config, http_server_config,",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key,\n"
        "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]}",
        "tls_server_config.cipher_suites",
        "unknown cipher 'TLS_RSA_WITH_RC4_128_SHA'; expected one of: TLS_RSA_WITH_AES_128_CBC_SHA",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key,\n"
        "  curve_preferences: [CurveP257]}",
        "tls_server_config.curve_preferences",
        "unknown curve 'CurveP257'; expected one of: CurveP256, CurveP384, CurveP521, X25519",
    ),
    ("rate_limit: {interval: 10, burst: 5}", "rate_limit.interval", "a number with a unit"),
    ("rate_limit: {interval: 1s, burst: -1}", "rate_limit.burst", "greater than or equal to 0"),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key,\n"
        "  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]}",
        "tls_server_config.cipher_suites",
        "HTTP/2-required",
    ),
    (
        "tls_server_config: {cert_file: server.pem, cert: inline, key_file: server.key}",
        "tls_server_config.cert",
        "and cert_file are both set",
    ),
    ("tls_server_config: {cert_file: server.pem}", "tls_server_config.key_file", "required"),
    ("tls_server_config: {cert_file: nope.pem, key_file: server.key}", "cert_file", "PEM file"),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key, client_ca_file: ca.pem}",
        "tls_server_config.client_auth_type",
        "RequireAndVerifyClientCert",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key,\n"
        "  client_auth_type: RequireAndVerifyClientCert}",
        "tls_server_config.client_ca_file",
        "the CA that signs the client certificates",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key,\n"
        "  client_auth_type: VerifyClientCertIfGiven, client_allowed_sans: [prometheus]}",
        "tls_server_config.client_allowed_sans",
        "expected RequireAndVerifyClientCert or RequireAnyClientCert",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key: secret-pem,\n"
        "  key_file: server.key, client_auth_type: RequireAnyClientCert}",
        "tls_server_config.key",
        "and key_file are both set",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key, key: [1]}",
        "tls_server_config.key",
        "bad value a secret",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key, min_version: TLS14}",
        "tls_server_config.min_version",
        "'TLS13'",
    ),
    (
        "tls_server_config: {cert_file: server.pem, key_file: server.key,\n"
        "  min_version: TLS13, max_version: TLS12}",
        "tls_server_config.min_version",
        "min <= max",
    ),
    (
        "tls_server_config: {cert_file: ca.key, key_file: server.key}",
        "tls_server_config",
        "the key matching the certificate",
    ),
    (
        "http_server_config: {headers: {X-Powered-By: sigap}}",
        "http_server_config.headers.X-Powered-By",
        "Content-Security-Policy",
    ),
    (
        "http_server_config: {headers: {X-Frame-Options: allow}}",
        "http_server_config.headers.X-Frame-Options",
        "deny, sameorigin",
    ),
    ("- just a list", "", "expected a mapping"),
]


@pytest.mark.parametrize(("text", "path", "fix"), BAD, ids=[b[1] or b[2] for b in BAD])
def test_a_bad_file_names_the_file_line_path_and_fix(
    certs: Certs, text: str, path: str, fix: str
) -> None:
    file = certs.dir / "bad-web.yml"
    file.write_text("# SIGAP exporter web config\n" + text + "\n")
    with pytest.raises(WebConfigError) as raised:
        load_web_config(file)
    message = str(raised.value)
    # the line of the deepest part of the path the file has (a missing key: its parent's)
    where = [i for k in reversed(path.split(".")) for i, t in enumerate(text.splitlines(), 2)
             if k and k in t]  # fmt: skip
    line = where[0] if where else 1
    assert message.startswith(f"{file}:{line}: "), message
    assert path in message and fix in message, message


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_config_check_validates_the_web_config_too(certs: Certs) -> None:
    inventory = certs.dir / "inventory.yml"
    inventory.write_text(ONE_NODE)
    good = write_web_config(certs.dir, full_config())
    ok = run_cli("--config.file", str(inventory), "--web.config.file", str(good), "--config.check")
    assert ok.returncode == 0, ok.stderr
    assert f"{good}: valid: TLS on (NoClientCert), 1 basic auth user(s)" in ok.stdout
    bad = certs.dir / "bad.yml"
    bad.write_text("basic_auth_users:\n  prometheus: plain-text\n")
    result = run_cli("--config.file", str(inventory), "--web.config.file", str(bad))
    assert result.returncode == 1
    assert f"{bad}:2: basic_auth_users.prometheus: not a bcrypt hash" in result.stderr
    assert "Traceback" not in result.stderr


# --- basic auth -----------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_basic_auth_caches_bcrypt_and_keeps_the_event_loop_free() -> None:
    auth = BasicAuth({"prometheus": HASH})
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        started = time.perf_counter()
        assert await auth.check(basic("prometheus", PASSWORD))
        first = time.perf_counter() - started
    finally:
        ticking.cancel()
    assert first > 0.02  # a real bcrypt at cost 10 ran...
    assert max(gaps) < 0.02  # ...in a thread: the loop kept ticking every 2 ms meanwhile
    started = time.perf_counter()
    for _ in range(1000):  # 1000 scrapes with the same credentials: one bcrypt in all
        assert await auth.check(basic("prometheus", PASSWORD))
    print(f"bcrypt cost 10: {first * 1000:.0f} ms once, then "
          f"{(time.perf_counter() - started) * 1e3:.2f} µs per cached check")  # fmt: skip
    assert auth.bcrypt_calls == 1
    assert not await auth.check(basic("prometheus", "wrong"))
    assert not await auth.check(basic("nobody", PASSWORD))  # costs a bcrypt all the same
    assert auth.bcrypt_calls == 3
    assert not await auth.check(None)
    assert not await auth.check("Bearer abc")
    assert not await auth.check("Basic !!!")
    assert parse_basic(basic("a", "b:c")) == ("a", b"b:c")  # a colon in the password is fine


# --- the real server ------------------------------------------------------------------------------


def start_guarded(start_exporter: StartExporter, certs: Certs, name: str) -> Exporter:
    """An exporter behind `full_config()` (TLS, basic auth), written as `name`; reached as
    the user `prometheus`."""
    web = write_web_config(certs.dir, full_config(), name)
    return start_exporter(
        ONE_NODE,
        "--web.config.file",
        str(web),
        context=certs.client_context(),
        auth=("prometheus", PASSWORD),
    )


@needs_root
@pytest.mark.root
def test_tls_and_basic_auth_guard_every_endpoint(
    certs: Certs, start_exporter: StartExporter
) -> None:
    exporter = start_guarded(start_exporter, certs, "web-auth.yml")
    text = exporter.wait_for(lambda t: value(t, "sigap_node_up", node="n1") == 1)
    assert "sigap_probe_packets_sent_total" in text
    for path, method in [
        ("/metrics", "GET"),
        ("/", "GET"),
        ("/-/healthy", "GET"),
        ("/-/ready", "GET"),
        ("/-/reload", "POST"),
    ]:
        for auth in (None, ("prometheus", "wrong"), ("grafana", PASSWORD)):
            status, headers, _ = exporter.fetch(path, method, auth=auth)
            assert status == 401 and headers["WWW-Authenticate"] == "Basic", (path, auth)
            assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = exporter.fetch("/-/healthy")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    assert exporter.fetch("/-/reload", "POST")[0] == 403  # authenticated, lifecycle off
    with pytest.raises(OSError):  # plain HTTP on the TLS port
        urllib.request.urlopen(exporter.url.replace("https:", "http:") + "/metrics", timeout=5)
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):  # no CA
        urllib.request.urlopen(exporter.url + "/metrics", timeout=5)


@needs_root
@pytest.mark.root
def test_client_certificates_and_min_version_are_enforced(
    certs: Certs, start_exporter: StartExporter
) -> None:
    web = write_web_config(
        certs.dir,
        {
            "tls_server_config": {
                "cert_file": "server.pem",
                "key_file": "server.key",
                "client_auth_type": "RequireAndVerifyClientCert",
                "client_ca_file": "ca.pem",
                "min_version": "TLS13",
            }
        },
        "web-mtls.yml",
    )
    exporter = start_exporter(
        ONE_NODE, "--web.config.file", str(web), context=certs.client_context(with_cert=True)
    )
    assert "Healthy" in exporter.get("/-/healthy")
    without_cert = certs.client_context()
    with pytest.raises(OSError):  # the server ends the handshake: no client certificate
        urllib.request.urlopen(exporter.url + "/-/healthy", timeout=5, context=without_cert)
    old_client = certs.client_context(with_cert=True)
    old_client.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(urllib.error.URLError):  # TLS 1.2 < min_version: handshake refused
        urllib.request.urlopen(exporter.url + "/-/healthy", timeout=5, context=old_client)


@needs_root
@pytest.mark.root
@pytest.mark.skipif(
    bool(harness.missing_binaries(harness.PROMETHEUS)), reason="Debian prometheus not installed"
)
def test_prometheus_scrapes_with_tls_config_and_basic_auth(
    certs: Certs, start_exporter: StartExporter, tmp_path: Path
) -> None:
    web = write_web_config(certs.dir, full_config(), "web-prometheus.yml")
    exporter = start_exporter(
        ONE_NODE,
        "--web.config.file",
        str(web),
        context=certs.client_context(),
        auth=("prometheus", PASSWORD),
    )
    password_file = tmp_path / "exporter-password"
    password_file.write_text(PASSWORD)
    target = {"targets": [exporter.url.removeprefix("https://")]}
    tls = {"ca_file": str(certs.ca)}
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {
                "job_name": "sigap-exporter",
                "scheme": "https",
                "tls_config": tls,
                "basic_auth": {"username": "prometheus", "password_file": str(password_file)},
                "static_configs": [target],
            },
            {
                "job_name": "without-credentials",
                "scheme": "https",
                "tls_config": tls,
                "static_configs": [target],
            },
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    prometheus = harness.start(
        "prometheus",
        [
            harness.which(harness.PROMETHEUS) or harness.PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        workdir=tmp_path,
        url=f"http://127.0.0.1:{port}",
    )
    try:

        def targets() -> dict[str, dict[str, str]] | None:
            url = prometheus.url + "/api/v1/targets?state=active"
            with urllib.request.urlopen(url, timeout=5) as response:
                active = json.load(response)["data"]["activeTargets"]
            found = {t["labels"]["job"]: t for t in active}
            return found if all(t["health"] != "unknown" for t in found.values()) else None

        found = harness.wait_for("both jobs scraped", targets, timeout=15, step=0.25)
        assert found["sigap-exporter"]["health"] == "up", found["sigap-exporter"]["lastError"]
        assert found["without-credentials"]["health"] == "down"
        assert "401" in found["without-credentials"]["lastError"]
        query = urllib.parse.quote('sigap_node_up{job="sigap-exporter",node="n1"}')
        with urllib.request.urlopen(f"{prometheus.url}/api/v1/query?query={query}") as r:
            result = json.load(r)["data"]["result"]
        assert [s["metric"]["node"] for s in result] == ["n1"]
    finally:
        prometheus.stop()


# --- reload ---------------------------------------------------------------------------------------


def _server_cert(certs: Certs, name: str) -> None:
    """Another server certificate for 127.0.0.1 from the same CA (a renewal)."""
    issue(certs.dir, name, name, "server.ext")


def _peer_name(url: str, context: ssl.SSLContext) -> str:
    """The CN of the certificate the server shows a new connection."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    with (
        socket.create_connection((host, int(port)), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        subject = dict(pair[0] for pair in tls.getpeercert()["subject"])  # type: ignore[index]
        return str(subject["commonName"])


def test_a_reload_takes_what_it_can_and_refuses_what_needs_a_restart(certs: Certs) -> None:
    running = load_web_config(write_web_config(certs.dir, full_config(), "web-r1.yml"))
    assert running.ssl_context is not None
    _server_cert(certs, "renewed")
    config = full_config(cert_file="renewed.pem", key_file="renewed.key", min_version="TLS13")
    config["basic_auth_users"] = {"grafana": HASH}
    renewed = load_web_config(write_web_config(certs.dir, config, "web-r2.yml"))
    running.check_reload(renewed)
    now = running.reloaded(renewed)
    assert now.ssl_context is running.ssl_context, "the server's context is updated, not replaced"
    assert running.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert now.users == {"grafana": HASH} and now.tls == renewed.tls
    plain = load_web_config(write_web_config(certs.dir, {"basic_auth_users": {}}, "web-r3.yml"))
    with pytest.raises(WebConfigError, match=r"web-r3\.yml: tls_server_config: switching TLS off"):
        running.check_reload(plain)
    with pytest.raises(WebConfigError, match="switching TLS on needs a restart"):
        plain.check_reload(running)
    verify = "RequireAndVerifyClientCert"
    mtls = full_config(client_auth_type=verify, client_ca_file="ca.pem")
    verifying = load_web_config(write_web_config(certs.dir, mtls, "web-r4.yml"))
    (certs.dir / "other-ca.pem").write_bytes(certs.server_cert.read_bytes())
    other_ca = full_config(client_auth_type=verify, client_ca_file="other-ca.pem")
    with pytest.raises(WebConfigError, match="client_ca_file: another client CA needs a restart"):
        verifying.check_reload(load_web_config(write_web_config(certs.dir, other_ca, "web-r5.yml")))
    verifying.check_reload(load_web_config(certs.dir / "web-r4.yml"))  # the same CA: fine


@needs_root
@pytest.mark.root
def test_sighup_reloads_the_web_config_and_keeps_the_last_good_one(
    certs: Certs, start_exporter: StartExporter
) -> None:
    web = certs.dir / "web-live.yml"
    exporter = start_guarded(start_exporter, certs, web.name)
    assert _peer_name(exporter.url, certs.client_context()) == "sigap-server"

    _server_cert(certs, "renewed-live")
    renewed = full_config(cert_file="renewed-live.pem", key_file="renewed-live.key")
    write_web_config(certs.dir, {**renewed, "basic_auth_users": {"grafana": HASH}}, web.name)
    exporter.auth = ("grafana", PASSWORD)
    deadline = time.monotonic() + 15
    exporter.process.send_signal(signal.SIGHUP)
    while exporter.fetch("/-/healthy")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exporter.fetch("/-/healthy")[0] == 200, "the new user is let in"
    assert exporter.fetch("/-/healthy", auth=("prometheus", PASSWORD))[0] == 401
    assert _peer_name(exporter.url, certs.client_context()) == "renewed-live"

    web.write_text("basic_auth_users: {grafana: not-a-hash}\n")  # bad: and TLS off besides
    exporter.process.send_signal(signal.SIGHUP)
    text = exporter.wait_for(
        lambda t: value(t, "sigap_exporter_config_last_reload_successful") == 0
    )
    assert "sigap_node_up" in text, "still serving, behind the last good web config"
    assert exporter.fetch("/-/healthy")[0] == 200
    assert exporter.fetch("/-/healthy", auth=None)[0] == 401
    assert "basic_auth_users.grafana: not a bcrypt hash" in exporter.log.read_text()
