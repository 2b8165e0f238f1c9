"""exporter-toolkit's own test data (`toolkit_testdata/`, vendored from its `web/testdata`) run
against sigap-exporter's web config as the toolkit's `tls_config_test.go` runs it: every valid
file is accepted and served to the toolkit's client, every invalid one refused, and the
handshakes the toolkit tests (TLS 1.1, no common cipher or curve, client certificates, SANs)
end as they end there."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.client
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from exporter.prober import ProbeEngine
from exporter.web import ExporterService, create_app, page_language
from exporter.webconfig import WebConfig, WebConfigError, load_web_config

from .conftest import needs_root

TESTDATA = Path(__file__).parent / "toolkit_testdata"
VALID = [
    "web_config_empty.yml",
    "web_config_noAuth.good.yml",
    "web_config_noAuth_tlsInline.good.yml",
    "web_config_noAuth_allCiphers.good.yml",
    "web_config_noAuth_someCiphers.good.yml",
    "web_config_noAuth_someCiphers_noOrder.good.yml",
    "web_config_noAuth_allCurves.good.yml",
    "web_config_noAuth_someCurves.good.yml",
    "web_config_noAuth_noHTTP2.good.yml",
    "web_config_headers.good.yml",
    "web_config_users.good.yml",
    "web_config_users_noTLS.good.yml",
    "tls_config_noAuth.requireanyclientcert.good.yml",
    "tls_config_noAuth.requireanyclientcertkeyinline.good.yml",
    "tls_config_noAuth.requireandverifyclientcert.good.yml",
    "web_config_auth_client_san.good.yaml",
    "web_config_rate_limiter_nonblocking.yaml",
    "web_config_rate_limiter_one_second.yaml",
]
REFUSED_AT_LOAD = [
    "web_config_junk.yml",
    "web_config_junk_key.yml",
    "web_config_noAuth_certPath_empty.bad.yml",
    "web_config_noAuth_cert_empty.bad.yml",
    "web_config_noAuth_keyPath_empty.bad.yml",
    "web_config_noAuth_key_empty.bad.yml",
    "web_config_noAuth_certPath_keyPath_empty.bad.yml",
    "web_config_noAuth_certPath_invalid.bad.yml",
    "web_config_noAuth_keyPath_invalid.bad.yml",
    "web_config_noAuth_certPath_keyPath_invalid.bad.yml",
    "web_config_noAuth.bad.yml",
    "web_config_auth_clientCAs_invalid.bad.yml",
    "web_config_auth_clientCAs_missing.bad.yml",
    "web_config_auth_user_list_invalid.bad.yml",
    "web_config_noAuth_inventedCiphers.bad.yml",
    "web_config_noAuth_inventedCurves.bad.yml",
    "web_config_noAuth_wrongTLSVersion.bad.yml",
    "web_config_noAuth_noHTTP2Cipher.bad.yml",
    "web_config_headers_content_type_options.bad.yml",
    "web_config_headers_frame_options.bad.yml",
    "web_config_headers_extra_header.bad.yml",
    "web_config_noAuth.good.blocking.yml",
]
"""`good.blocking` is the toolkit's RequireAndVerifyClientCert without a CA, which its reload
test expects to refuse every client: refused here when it is read (no CA: no client could
prove anything but a public CA's certificate)."""
REFUSED_AT_CONNECTION = ["web_config_auth_client_san.bad.yaml"]
"""Valid YAML whose one client (the toolkit's, SAN test3) is refused: 403."""
SERVER_CERT = ssl.PEM_cert_to_DER_cert((TESTDATA / "server.crt").read_text())
ONE_NODE = (
    "skpd:\n  - id: t\n    name: T\n    nodes:\n"
    "      - {id: n1, address: 127.0.0.1, role: host, owner: skpd}\n"
)
DAVE = ("dave", "dave123")
"""web_config_users*.good.yml's user with the cost-10 hash (the toolkit's TestUsers)."""


# --- the toolkit's client -------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """How the toolkit's `getTLSClient` and its test table reach a server."""

    tls: bool = True
    cert: str | None = None
    """A client certificate and key, by name without .pem/.key."""
    max_version: ssl.TLSVersion | None = None
    ciphers: str | None = None
    curve: str | None = None
    auth: tuple[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def context(self, certs: Path) -> ssl.SSLContext:
        # The toolkit's client trusts tls-ca-chain.pem, whose CAs carry only the "any" extended
        # key usage, which OpenSSL refuses for a server: this one pins server.crt (`fetch`).
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if self.cert:
            stem = certs / self.cert if (certs / f"{self.cert}.pem").exists() else None
            stem = stem or TESTDATA / self.cert
            context.load_cert_chain(f"{stem}.pem", f"{stem}.key")
        if self.max_version is not None:
            context.maximum_version = self.max_version
            if self.max_version < ssl.TLSVersion.TLSv1_2:  # let the client offer it at all
                context.minimum_version = ssl.TLSVersion.TLSv1
                context.set_ciphers("DEFAULT:@SECLEVEL=0")
        if self.ciphers:
            context.set_ciphers(self.ciphers)
        if self.curve:
            context.set_ecdh_curve(self.curve)
        return context


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    cipher: str | None


def fetch(port: int, client: Client, certs: Path, path: str = "/-/healthy") -> Answer:
    """One request; raises OSError (ssl.SSLError among them) when the connection fails."""
    connection: http.client.HTTPConnection
    if client.tls:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=5, context=client.context(certs)
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = dict(client.headers)
    if client.auth:
        import base64

        token = base64.b64encode(":".join(client.auth).encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        sock = connection.sock
        cipher = None
        if isinstance(sock, ssl.SSLSocket):
            assert sock.getpeercert(binary_form=True) == SERVER_CERT, "not the toolkit's server"
            cipher = sock.cipher()[0]
        return Answer(response.status, response.headers, body, cipher)
    finally:
        connection.close()


CLOSED = ("UNEXPECTED_EOF_WHILE_READING", "closed connection without response", "reset by peer")
"""How a refused handshake looks to the client here: asyncio's TLS drops the alert OpenSSL
wrote when the handshake fails (it closes the connection at once), so the client sees the
connection closed where Go's client reads "handshake failure" or "certificate required"."""


async def refused(port: int, client: Client, certs: Path, alert: str) -> None:
    """The server refuses `client`'s connection: the TLS `alert`, or the connection closed."""
    try:
        answer = await asyncio.to_thread(fetch, port, client, certs)
    except OSError as error:
        assert alert in str(error) or any(c in str(error) for c in CLOSED), str(error)
        return
    raise AssertionError(f"expected the connection refused, got {answer.status}")


@contextlib.asynccontextmanager
async def serving(config: WebConfig) -> AsyncIterator[int]:
    """The real exporter app behind `config` on a free loopback port (no inventory needed)."""
    service = ExporterService(Path("inventory.yml"), ProbeEngine(), web_config=config)
    runner = web.AppRunner(create_app(service))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=config.ssl_context)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`client3`: the toolkit's SAN test client (SAN test3) signed by client2_selfsigned.pem,
    which its SAN configs trust (the later client2 certificate with SANs is not vendored)."""
    d = tmp_path_factory.mktemp("toolkit-client")
    (d / "client3.ext").write_text("subjectAltName=DNS:test3\nextendedKeyUsage=clientAuth\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "client3.key", "-out", "client3.csr", "-subj", "/CN=test3")  # fmt: skip
    openssl("x509", "-req", "-in", "client3.csr", "-CA", str(TESTDATA / "client2_selfsigned.pem"),
            "-CAkey", str(TESTDATA / "client2_selfsigned.key"), "-set_serial", "3",
            "-days", "2", "-extfile", "client3.ext", "-out", "client3.pem")  # fmt: skip
    return d


# --- the files ------------------------------------------------------------------------------------


def test_every_toolkit_file_is_classified_and_the_counts_are_18_and_23() -> None:
    files = sorted(p.name for p in TESTDATA.iterdir() if p.suffix in (".yml", ".yaml"))
    assert sorted(VALID + REFUSED_AT_LOAD + REFUSED_AT_CONNECTION) == files
    accepted, refused_now = [], []
    for name in files:
        try:
            load_web_config(TESTDATA / name)
        except WebConfigError as error:
            assert str(error).startswith(f"{TESTDATA / name}"), str(error)
            assert "Traceback" not in str(error)
            refused_now.append(name)
        else:
            accepted.append(name)
    assert sorted(refused_now) == sorted(REFUSED_AT_LOAD)
    assert len([n for n in accepted if n in VALID]) == 18
    assert len(refused_now) + len(REFUSED_AT_CONNECTION) == 23


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("web_config_noAuth_certPath_empty.bad.yml", "cert_file: is required but missing"),
        ("web_config_noAuth_key_empty.bad.yml", "key_file: is required but missing"),
        ("web_config_noAuth_certPath_invalid.bad.yml", "somefile' is not a readable file"),
        ("web_config_noAuth.bad.yml", "tls_server_config.client_ca_file: '/dev/null'"),
        ("web_config_noAuth_inventedCiphers.bad.yml", "unknown cipher"),
        ("web_config_noAuth_inventedCurves.bad.yml", "unknown curve 'CurveP257'"),
        ("web_config_noAuth_wrongTLSVersion.bad.yml", "bad value 'TLS111'"),
        ("web_config_noAuth_noHTTP2Cipher.bad.yml", "HTTP/2-required"),
        ("web_config_headers_extra_header.bad.yml", "header 'Content-Type' cannot be set"),
        ("web_config_junk_key.yml", "unknown key 'cert_filse'"),
        ("web_config_auth_user_list_invalid.bad.yml", "basic_auth_users.john: not a bcrypt"),
    ],
)
def test_an_invalid_toolkit_file_is_refused_naming_the_fault(name: str, fix: str) -> None:
    with pytest.raises(WebConfigError, match=None) as raised:
        load_web_config(TESTDATA / name)
    assert fix in str(raised.value), str(raised.value)


def test_relative_file_names_are_relative_to_the_config_files_directory(tmp_path: Path) -> None:
    """As the toolkit's JoinDir: `server.crt` in testdata/x.yml is testdata/server.crt,
    wherever the process runs."""
    config = load_web_config(TESTDATA / "web_config_noAuth.good.yml")
    assert config.tls is not None and config.tls.cert_file == TESTDATA / "server.crt"
    moved = tmp_path / "web.yml"
    moved.write_text((TESTDATA / "web_config_noAuth.good.yml").read_text())
    with pytest.raises(WebConfigError, match=f"'{tmp_path}/server.crt' is not a readable file"):
        load_web_config(moved)


# --- served ---------------------------------------------------------------------------------------

TLS = Client()
REACH = {
    "web_config_empty.yml": Client(tls=False),
    "web_config_headers.good.yml": Client(tls=False),
    "web_config_users.good.yml": Client(auth=DAVE),
    "web_config_users_noTLS.good.yml": Client(tls=False, auth=DAVE),
    "web_config_noAuth_noHTTP2.good.yml": Client(ciphers="AES128-SHA"),
    "tls_config_noAuth.requireanyclientcert.good.yml": Client(cert="client_selfsigned"),
    "tls_config_noAuth.requireanyclientcertkeyinline.good.yml": Client(cert="client_selfsigned"),
    "tls_config_noAuth.requireandverifyclientcert.good.yml": Client(cert="client_selfsigned"),
    "web_config_auth_client_san.good.yaml": Client(cert="client3"),
    "web_config_rate_limiter_nonblocking.yaml": Client(tls=False),
    "web_config_rate_limiter_one_second.yaml": Client(tls=False),
}
"""How the toolkit's tests reach each valid file's server (TLS with no client cert if unnamed)."""


@pytest.mark.parametrize("name", VALID)
async def test_every_valid_toolkit_file_is_served_to_the_toolkits_client(
    name: str, certs: Path
) -> None:
    config = load_web_config(TESTDATA / name)
    client = REACH.get(name, TLS)
    async with serving(config) as port:
        answer = await asyncio.to_thread(fetch, port, client, certs)
        if name == "web_config_rate_limiter_one_second.yaml":  # burst 0: nobody gets in
            assert (answer.status, answer.body) == (429, b"Too Many Requests\n")
            return
        assert (answer.status, answer.body) == (200, b"Healthy.\n"), name
        if client.auth:  # ...and without the password: 401
            anonymous = Client(tls=client.tls)
            assert (await asyncio.to_thread(fetch, port, anonymous, certs)).status == 401
        if config.tls is not None:  # plain HTTP to the TLS port gets no answer
            await refused(port, Client(tls=False), certs, "closed connection without response")


async def test_headers_yaml_reads_as_numbers_are_sent_as_the_toolkit_sends_them(
    certs: Path,
) -> None:
    async with serving(load_web_config(TESTDATA / "web_config_headers.good.yml")) as port:
        answer = await asyncio.to_thread(fetch, port, Client(tls=False), certs)
    assert answer.headers["X-XSS-Protection"] == "1"
    assert answer.headers["X-Frame-Options"] == "deny"
    assert answer.headers["Content-Security-Policy"] == "default-src 'self' *.test.example.net"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
async def test_a_tls_1_1_client_is_refused(certs: Path) -> None:
    async with serving(load_web_config(TESTDATA / "web_config_noAuth.good.yml")) as port:
        await refused(port, Client(max_version=ssl.TLSVersion.TLSv1_1), certs, "PROTOCOL_VERSION")
        assert (await asyncio.to_thread(fetch, port, TLS, certs)).status == 200


async def test_cipher_suites_choose_the_cipher_and_refuse_a_client_without_one(
    certs: Path,
) -> None:
    both = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"  # the client's order
    async with serving(load_web_config(TESTDATA / "web_config_noAuth_someCiphers.good.yml")) as p:
        one = await asyncio.to_thread(
            fetch, p, Client(ciphers="ECDHE-RSA-AES128-GCM-SHA256"), certs
        )
        assert one.cipher == "ECDHE-RSA-AES128-GCM-SHA256"
        chosen = await asyncio.to_thread(fetch, p, Client(ciphers=both), certs)
        assert chosen.cipher == "ECDHE-RSA-AES128-GCM-SHA256", "the server's order wins"
        await refused(p, Client(ciphers="ECDHE-RSA-AES256-SHA"), certs, "HANDSHAKE_FAILURE")
    no_order = load_web_config(TESTDATA / "web_config_noAuth_someCiphers_noOrder.good.yml")
    async with serving(no_order) as p:  # prefer_server_cipher_suites: false
        chosen = await asyncio.to_thread(fetch, p, Client(ciphers=both), certs)
        assert chosen.cipher == "ECDHE-RSA-AES256-GCM-SHA384", "the client's order wins"


async def test_curve_preferences_refuse_a_client_without_a_common_curve(certs: Path) -> None:
    async with serving(load_web_config(TESTDATA / "web_config_noAuth_someCurves.good.yml")) as p:
        assert (await asyncio.to_thread(fetch, p, Client(curve="secp521r1"), certs)).status == 200
        await refused(p, Client(curve="secp384r1"), certs, "HANDSHAKE_FAILURE")


async def test_client_certificates_as_the_toolkit_asks_for_them(certs: Path) -> None:
    any_cert = load_web_config(TESTDATA / "tls_config_noAuth.requireanyclientcert.good.yml")
    async with serving(any_cert) as port:  # any certificate at all, none refused
        assert (await asyncio.to_thread(fetch, port, Client(cert="client2_selfsigned"), certs)
                ).status == 200  # fmt: skip
        await refused(port, TLS, certs, "CERTIFICATE_REQUIRED")
    verify = load_web_config(TESTDATA / "tls_config_noAuth.requireandverifyclientcert.good.yml")
    async with serving(verify) as port:  # only client_selfsigned.pem's
        await refused(port, Client(cert="client2_selfsigned"), certs, "UNKNOWN_CA")
        await refused(port, TLS, certs, "CERTIFICATE_REQUIRED")
        assert (await asyncio.to_thread(fetch, port, Client(cert="client_selfsigned"), certs)
                ).status == 200  # fmt: skip
    if_given = load_web_config(TESTDATA / "web_config_noAuth.good.yml")
    async with serving(if_given) as port:  # verified against the system's CAs, if given
        await refused(port, Client(cert="client_selfsigned"), certs, "UNKNOWN_CA")
        assert (await asyncio.to_thread(fetch, port, TLS, certs)).status == 200


async def test_a_client_certificate_without_an_allowed_san_gets_403(certs: Path) -> None:
    bad = load_web_config(TESTDATA / "web_config_auth_client_san.bad.yaml")
    async with serving(bad) as port:
        answer = await asyncio.to_thread(fetch, port, Client(cert="client3"), certs)
    assert answer.status == 403 and b"client_allowed_sans" in answer.body


async def test_rate_limit_answers_429_once_the_burst_is_spent(certs: Path) -> None:
    """`burst` at once, then one per `interval`, counted on the clock the service is given."""
    config = load_web_config(TESTDATA / "web_config_rate_limiter_one_second.yaml")
    assert config.rate_limit is not None
    now = [0.0]
    limited = WebConfig(rate_limit=type(config.rate_limit)(interval=1.0, burst=2))
    service = ExporterService(
        Path("inventory.yml"), ProbeEngine(), web_config=limited, monotonic=lambda: now[0]
    )
    runner = web.AppRunner(create_app(service))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    plain = Client(tls=False)
    try:
        statuses = [(await asyncio.to_thread(fetch, port, plain, certs)).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        now[0] = 1.0  # one interval later: one more
        statuses = [(await asyncio.to_thread(fetch, port, plain, certs)).status for _ in range(2)]
        assert statuses == [200, 429]
    finally:
        await runner.cleanup()


# --- gzip and the landing page --------------------------------------------------------------------


async def test_metrics_are_gzipped_for_a_scraper_that_asks(certs: Path) -> None:
    async with serving(WebConfig()) as port:
        plain = await asyncio.to_thread(fetch, port, Client(tls=False), certs, "/metrics")
        gz = Client(tls=False, headers={"Accept-Encoding": "gzip"})
        zipped = await asyncio.to_thread(fetch, port, gz, certs, "/metrics")
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    text = gzip.decompress(zipped.body).decode()
    assert (
        "sigap_exporter_build_info" in text and "sigap_exporter_build_info" in plain.body.decode()
    )


def test_the_landing_page_language_follows_lang_then_accept_language() -> None:
    assert page_language(None, None) == "id"
    assert page_language(None, "fr-FR, de;q=0.8") == "id"
    assert page_language(None, "en-US,en;q=0.9") == "en"
    assert page_language(None, "en;q=0.5, id;q=0.8") == "id"
    assert page_language(None, "en;q=0") == "id"
    assert page_language("en", "id") == "en"
    assert page_language("xx", "en") == "en"


async def test_the_landing_page_speaks_bahasa_indonesia_first(certs: Path) -> None:
    async with serving(WebConfig()) as port:
        default = await asyncio.to_thread(fetch, port, Client(tls=False), certs, "/")
        english = Client(tls=False, headers={"Accept-Language": "en-GB,en;q=0.9"})
        asked = await asyncio.to_thread(fetch, port, english, certs, "/")
        by_query = await asyncio.to_thread(fetch, port, Client(tls=False), certs, "/?lang=en")
    assert b'<html lang="id">' in default.body and b"<th>pemilik</th>" in default.body
    assert b'<html lang="en">' in asked.body and b"<th>owner</th>" in asked.body
    assert b'<html lang="en">' in by_query.body
    assert default.headers["Vary"] == "Accept-Language"


# --- reload ---------------------------------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    """A web config in `directory` whose relative names point into the toolkit's testdata."""
    path = directory / name
    path.write_text(text.replace('_file: "', f'_file: "{TESTDATA}/'))
    return path


async def test_a_reload_applies_client_auth_ciphers_and_curves_to_the_running_server(
    certs: Path, tmp_path: Path
) -> None:
    running = load_web_config(TESTDATA / "tls_config_noAuth.requireanyclientcert.good.yml")
    verify = (TESTDATA / "tls_config_noAuth.requireanyclientcert.good.yml").read_text()
    verify = verify.replace("RequireAnyClientCert", "RequireAndVerifyClientCert")
    async with serving(running) as port:
        anyone = Client(cert="client_selfsigned")
        assert (await asyncio.to_thread(fetch, port, anyone, certs)).status == 200
        new = load_web_config(write(tmp_path, "verify.yml", verify))
        running.check_reload(new)  # the same CA file: allowed
        running.reloaded(new)
        await refused(port, anyone, certs, "UNKNOWN_CA")  # verified again, by the CA only

    running = load_web_config(TESTDATA / "web_config_noAuth_someCiphers.good.yml")
    async with serving(running) as port:
        chacha = "ECDHE-RSA-CHACHA20-POLY1305"  # one of Python's defaults, not in the file
        old_cipher = Client(ciphers=chacha, max_version=ssl.TLSVersion.TLSv1_2)
        await refused(port, old_cipher, certs, "HANDSHAKE_FAILURE")
        defaults = load_web_config(TESTDATA / "web_config_noAuth.good.yml")
        running.check_reload(defaults)
        running.reloaded(defaults)  # cipher_suites removed: Python's defaults again
        assert (await asyncio.to_thread(fetch, port, old_cipher, certs)).status == 200

    running = load_web_config(TESTDATA / "web_config_noAuth_someCurves.good.yml")
    async with serving(running) as port:
        p384 = Client(curve="secp384r1")
        await refused(port, p384, certs, "HANDSHAKE_FAILURE")
        text = (TESTDATA / "web_config_noAuth_someCurves.good.yml").read_text()
        other = load_web_config(write(tmp_path, "p384.yml", text.replace("CurveP521", "CurveP384")))
        running.check_reload(other)
        running.reloaded(other)
        assert (await asyncio.to_thread(fetch, port, p384, certs)).status == 200
        with pytest.raises(WebConfigError, match=r"curve_preferences: removing it needs a restart"):
            running.check_reload(load_web_config(TESTDATA / "web_config_noAuth.good.yml"))


def test_a_reload_refuses_other_client_cas_inline_or_the_systems(tmp_path: Path) -> None:
    system = load_web_config(TESTDATA / "web_config_noAuth.good.yml")  # the system's CAs
    pinned = load_web_config(TESTDATA / "tls_config_noAuth.requireandverifyclientcert.good.yml")
    with pytest.raises(WebConfigError, match="client_ca_file: another client CA needs a restart"):
        system.check_reload(pinned)
    inline_ca = (TESTDATA / "client2_selfsigned.pem").read_text()
    indented = "".join(f"    {line}\n" for line in inline_ca.splitlines())
    inline = write(
        tmp_path,
        "inline-ca.yml",
        'tls_server_config:\n  cert_file: "server.crt"\n  key_file: "server.key"\n'
        f'  client_auth_type: "RequireAndVerifyClientCert"\n  client_ca: |\n{indented}',
    )
    with pytest.raises(WebConfigError, match="client_ca: another client CA needs a restart"):
        pinned.check_reload(load_web_config(inline))
    load_web_config(inline).check_reload(load_web_config(inline))  # the same inline CA: fine


@needs_root
@pytest.mark.root
async def test_a_reload_keeps_the_rate_limit_count_unless_the_limit_changed(
    tmp_path: Path,
) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(ONE_NODE)
    web_yml = tmp_path / "web.yml"
    web_yml.write_text("rate_limit: {interval: 1h, burst: 2}\n")
    service = ExporterService(
        inventory, ProbeEngine(), web_config_file=web_yml, web_config=load_web_config(web_yml)
    )
    try:
        assert await service.reload() is None
        limiter = service.rate_limiter
        assert limiter is not None and limiter.allow(0.0)
        web_yml.write_text("rate_limit: {interval: 1h, burst: 2}\nbasic_auth_users: {}\n")
        assert await service.reload() is None
        assert service.rate_limiter is limiter, "the same limit: the count goes on"
        assert limiter.allow(0.0) and not limiter.allow(0.0)
        web_yml.write_text("rate_limit: {interval: 1h, burst: 3}\n")
        assert await service.reload() is None
        assert service.rate_limiter is not limiter and service.rate_limiter is not None
        assert [service.rate_limiter.allow(0.0) for _ in range(4)] == [True, True, True, False]
        web_yml.write_text("rate_limit: {interval: 1h, burst: -1}\n")
        assert "rate_limit.burst" in (await service.reload() or "")
        assert service.web_config.rate_limit is not None  # the last good one stays
        assert service.web_config.rate_limit.burst == 3
    finally:
        service.engine.close()


async def test_request_client_cert_and_an_inline_client_ca(certs: Path, tmp_path: Path) -> None:
    request = write(
        tmp_path,
        "request.yml",
        'tls_server_config:\n  cert_file: "server.crt"\n  key_file: "server.key"\n'
        '  client_auth_type: "RequestClientCert"\n',
    )
    async with serving(load_web_config(request)) as port:  # asked for, taken unverified
        assert (await asyncio.to_thread(fetch, port, TLS, certs)).status == 200
        with_cert = Client(cert="client2_selfsigned")
        assert (await asyncio.to_thread(fetch, port, with_cert, certs)).status == 200
    ca_pem = (TESTDATA / "client2_selfsigned.pem").read_text()
    ca = "".join(f"    {line}\n" for line in ca_pem.splitlines())
    inline = write(
        tmp_path,
        "inline.yml",
        'tls_server_config:\n  cert_file: "server.crt"\n  key_file: "server.key"\n'
        f'  client_auth_type: "RequireAndVerifyClientCert"\n  client_ca: |\n{ca}',
    )
    async with serving(load_web_config(inline)) as port:  # only what client2 signed
        assert (await asyncio.to_thread(fetch, port, Client(cert="client3"), certs)).status == 200
        await refused(port, Client(cert="client_selfsigned"), certs, "UNKNOWN_CA")


def test_tls_1_3_cipher_suites_are_named_not_configured(tmp_path: Path) -> None:
    text = (
        'tls_server_config:\n  cert_file: "server.crt"\n  key_file: "server.key"\n'
        "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"
    )
    with pytest.raises(WebConfigError, match="HTTP/2-required"):  # as Go's HTTP/2 server
        load_web_config(write(tmp_path, "h2.yml", text))
    text = "http_server_config: {http2: false}\n" + text
    only13 = load_web_config(write(tmp_path, "13.yml", text))
    assert only13.ssl_context is not None  # Go has no TLS 1.2 suite left: TLS 1.3 only
    assert only13.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_3
    with pytest.raises(WebConfigError, match=r"has no TLS 1\.2 cipher suite, and max_version"):
        load_web_config(write(tmp_path, "12.yml", text + "  max_version: TLS12\n"))


async def test_the_systems_cas_verify_only_where_no_ca_is_configured(
    certs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL's SSL_CERT_FILE makes client_selfsigned.pem "the system's CA" here."""
    monkeypatch.setenv("SSL_CERT_FILE", str(TESTDATA / "client_selfsigned.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    if_given = load_web_config(TESTDATA / "web_config_noAuth.good.yml")
    async with serving(if_given) as port:  # VerifyClientCertIfGiven, no CA: the system's
        answer = await asyncio.to_thread(fetch, port, Client(cert="client_selfsigned"), certs)
        assert answer.status == 200
    pinned = write(
        tmp_path,
        "pinned.yml",
        'tls_server_config:\n  cert_file: "server.crt"\n  key_file: "server.key"\n'
        '  client_auth_type: "RequireAndVerifyClientCert"\n'
        '  client_ca_file: "client2_selfsigned.pem"\n',
    )
    async with serving(load_web_config(pinned)) as port:  # a CA configured: that one only
        await refused(port, Client(cert="client_selfsigned"), certs, "UNKNOWN_CA")
        assert (await asyncio.to_thread(fetch, port, Client(cert="client3"), certs)).status == 200


async def test_basic_auth_as_the_toolkits_handler_tests_it(certs: Path) -> None:
    """handler_test.go: the cache under concurrent logins, the fixed hash's own password
    ("fakepassword") and a poisoned cache key let nobody in."""
    users = load_web_config(TESTDATA / "web_config_users_noTLS.good.yml")

    async def login(user: str, password: str) -> int:
        client = Client(tls=False, auth=(user, password))
        return (await asyncio.to_thread(fetch, port, client, certs)).status

    async with serving(users) as port:
        assert await login("alice", "alice123") == 200
        assert await login("alice", "alice1234") == 401
        mixed = [login("alice", "alice123"), login("alice", "alice1234")] * 20
        assert await asyncio.gather(*mixed) == [200, 401] * 20
        assert await login("fakeuser", "fakepassword") == 401
        alice_hash = users.users["alice"]
        assert await login(f"alice{alice_hash}", "fakepassword") == 401  # poison the cache...
        fixed = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
        assert await login("alice", f"{fixed}fakepassword") == 401  # ...and try to use it
